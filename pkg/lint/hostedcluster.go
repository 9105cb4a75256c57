package lint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// CatalogOverridesAnnotation rewrites the default catalog images'
// locations (docs/semantics.md §7.4); pkg/olmcatalogs holds its meaning.
const CatalogOverridesAnnotation = olmcatalogs.OverridesAnnotation

// catalogs are the four default catalogs, in the order findings report them.
var catalogs = olmcatalogs.Catalogs

func annotationField(key string) string { return fmt.Sprintf("metadata.annotations[%s]", key) }

// lintHostedCluster checks one HostedCluster: its imageContentSources as a
// mirror configuration of their own (the guest nodes'), the OLM catalog
// annotations, and whether nodes and control plane pull the release from the
// same places.
func lintHostedCluster(c *collector, id int, mgmt *group, hc HostedClusterView) {
	name := hc.Name
	if hc.Namespace != "" {
		name = hc.Namespace + "/" + name
	}
	set := mirrorset.Set{Kind: mirrorset.KindImageContentSources, Name: name, Origin: hc.Origin, Entries: hc.ImageContentSources}
	obj := set.Describe()
	g := newGroup(c, id, []mirrorset.Set{set}, false)
	g.check(c)
	lintCatalogPins(c, id, obj, hc.Annotations)
	if v, ok := hc.Annotations[CatalogOverridesAnnotation]; ok {
		lintCatalogOverrides(c, position{id, -1, len(catalogs), 0}, obj, v)
	}
	lintReleaseAgreement(c, g, mgmt)
}

// lintCatalogPins checks the four pin annotations (HCM026): all or none, each
// by a valid digest. A partial or broken set of pins is refused as a whole,
// so the catalogs are left unreconciled.
func lintCatalogPins(c *collector, id int, obj string, ann map[string]string) {
	problems := olmcatalogs.CheckPins(ann)
	for i, cat := range catalogs {
		for _, p := range problems {
			if p.Catalog.Name != cat.Name {
				continue
			}
			key := cat.PinAnnotation()
			pos := position{id, -1, i, 0}
			switch {
			case p.Missing:
				c.add(pos, "HCM026", obj, annotationField(key),
					"catalog pins are all or nothing: %d of 4 are set (%s) but not this one, so none is applied and the catalogs are not reconciled", len(p.Set), strings.Join(p.Set, ", "))
			case errors.Is(p.Err, olmcatalogs.ErrNoDigest):
				c.add(pos, "HCM026", obj, annotationField(key),
					"pin %q has no digest; pins must name an image by digest, so no pin is applied and the catalogs are not reconciled", p.Value)
			default:
				c.add(pos, "HCM026", obj, annotationField(key),
					"pin %q is not a valid image reference (%v), so no pin is applied and the catalogs are not reconciled", p.Value, errors.Unwrap(p.Err))
			}
		}
	}
}

// lintCatalogOverrides checks the catalog override annotation (HCM027, and
// HCM025/HCM015 for the string itself): every key should be a prefix that
// is the longest match for some default catalog image, and none should
// depend on how HyperShift's HEAD treats the bare registry.redhat.io key.
func lintCatalogOverrides(c *collector, pos position, obj, value string) {
	field := annotationField(CatalogOverridesAnnotation)
	for _, is := range overrides.EnvIssues(value) {
		c.add(pos, is.Code, obj, field, "%s", is.Message)
	}
	env := overrides.DecodeEnv(value)
	keys := env.Sources()

	// The winning key for each catalog image, with every key in one
	// configuration: a key shorter than another for all images never wins.
	var entries []mirrorset.Entry
	for _, k := range keys {
		if mirrorset.ValidSource(k) {
			entries = append(entries, mirrorset.Entry{Source: k, Mirrors: []string{placeholderMirror(k)}})
		}
	}
	all := compileKeys(entries)
	wins := map[string]bool{}
	matches := map[string][]string{} // key → catalog images it matches alone
	for _, cat := range catalogs {
		img := cat.Repository()
		if all != nil {
			if r := all.Find(img); r != nil {
				wins[r.Prefix] = true
			}
		}
		for _, e := range entries {
			if one := compileKeys([]mirrorset.Entry{e}); one != nil && one.Find(img) != nil {
				matches[e.Source] = append(matches[e.Source], img)
			}
		}
	}
	for _, k := range keys {
		switch {
		case !mirrorset.ValidSource(k):
			c.add(pos, "HCM027", obj, field,
				"key %q is not a valid prefix (host[:port][/path], no tag, digest or trailing slash), so it matches no default catalog image and has no effect", k)
		case len(matches[k]) == 0:
			c.add(pos, "HCM027", obj, field,
				"key %q matches no default catalog image (registry.redhat.io/redhat/<index>:v4.x), so it has no effect", k)
		case !wins[k]:
			c.add(pos, "HCM027", obj, field,
				"key %q matches %s, but a longer key matches each of them, so it has no effect", k, quoteList(matches[k], 4))
		}
		if k != "registry.redhat.io" {
			continue
		}
		for _, v := range env[k] {
			if strings.Contains(v, "/") {
				c.add(pos, "HCM027", obj, field,
					"key \"registry.redhat.io\" with value %q relies on the two-key rules of HyperShift's HEAD, which uses %s/<index> (dropping /redhat), while the documented prefix rule used here gives %s/redhat/<index>; write the key as registry.redhat.io/redhat", v, v, v)
			}
		}
	}
}

// placeholderMirror is any mirror different from the key, so that an entry
// built only to match keys is not ignored as mirrorless.
func placeholderMirror(key string) string {
	if key == "override.invalid" {
		return "override2.invalid"
	}
	return "override.invalid"
}

func compileKeys(entries []mirrorset.Entry) *mirrorset.Config {
	cfg, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "catalog overrides", Entries: entries}})
	if err != nil {
		return nil
	}
	return cfg
}

// lintReleaseAgreement compares where the guest nodes (imageContentSources)
// and the control plane (management sets) pull the two release repositories
// from by digest (HCM028). imageContentSources can only express digest
// mirrors with the source as fallback, so only the mirrors, in order, are
// compared: the source fallback and NeverContactSource are what the field
// cannot say (sync-ics reports that), not a disagreement.
func lintReleaseAgreement(c *collector, hc, mgmt *group) {
	if hc.cfg == nil || mgmt.cfg == nil {
		return
	}
	const digest = "@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, repo := range []string{releaseRepository, componentRepository} {
		nodes := describePulls(hc.cfg, repo+digest, false)
		cp := describePulls(mgmt.cfg, repo+digest, false)
		if nodes == cp {
			continue
		}
		pos, field := position{hc.id, 0, -1, 0}, hc.sets[0].Kind.ListField()
		if r := hc.cfg.Find(repo); r != nil {
			if l, ok := hc.at(r.Prefix); ok {
				pos, field = hc.pos(l, 0), hc.field(l, "")
			}
		}
		c.add(pos, "HCM028", hc.sets[0].Describe(), field,
			"digest pulls of %s go to %s on the guest nodes (imageContentSources) but to %s in the control plane (management mirror sets): nodes and control plane disagree on where the release comes from", repo, nodes, cp)
	}
}

// describePulls renders the pull sources of ref as endpoints, in try order;
// the source itself only when withSource.
func describePulls(cfg *mirrorset.Config, ref string, withSource bool) string {
	res, err := cfg.Resolve(ref)
	if err != nil {
		var rw *mirrorset.RewriteError
		if errors.As(err, &rw) {
			return fmt.Sprintf("a failed pull (mirror %q rewrites it to %q, not a valid reference)", rw.Endpoint, rw.Candidate)
		}
		return "a failed pull (" + err.Error() + ")"
	}
	parts := make([]string, 0, len(res.PullSources))
	for _, p := range res.PullSources {
		switch {
		case p.IsSource && withSource:
			parts = append(parts, "the source")
		case !p.IsSource:
			parts = append(parts, p.Endpoint)
		}
	}
	if len(parts) == 0 {
		if withSource {
			return "nowhere ([], the source is blocked)"
		}
		return "no mirror"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
