package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// The release-coverage codes: whether a disconnected cluster can pull every
// image of a release through the mirror sets. lint --release reports them
// from the payload alone; verify (pkg/releaseinfo) attaches them to the
// images it checked. Both judge with CheckCoverage.
const (
	// CodeUnmirroredRepository: a payload repository has no mirror
	// serving its pulls, so they go to the source (HCM009, an error).
	CodeUnmirroredRepository = "HCM009"
	// CodeTagWithoutTagMirrors: an image referenced by tag whose source
	// has digest mirrors only, which tag pulls do not use (HCM017).
	CodeTagWithoutTagMirrors = "HCM017"
	// CodeKubeVirtUnmirrored: the KubeVirt boot image, which
	// image-references does not list, is not mirrored (HCM030).
	CodeKubeVirtUnmirrored = "HCM030"
)

// Coverage is the one judgement of whether a pull of one release image is
// served by a mirror: the rule behind HCM009, HCM017 and HCM030.
type Coverage struct {
	// Code is the finding (one of the release-coverage codes); empty
	// when a mirror serves the pull.
	Code string
	// Reference is the image judged.
	Reference imageref.Reference
	// Source is the prefix of the mirror-set source covering the image;
	// empty when none does.
	Source string
	// Blocked means that source is NeverContactSource: a pull no mirror
	// serves fails instead of going to the source.
	Blocked bool
	// OtherMirrorsOnly means the source has mirrors, but only of the kind
	// this pull does not use (tag mirrors for a digest pull, digest
	// mirrors for a tag pull).
	OtherMirrorsOnly bool
}

// CheckCoverage judges the pull of ref through cfg the way a node's
// runtime makes it: digest pulls use digest mirrors, tag pulls tag mirrors.
// kubeVirt marks the KubeVirt boot image, whose finding is HCM030.
func CheckCoverage(cfg *mirrorset.Config, ref imageref.Reference, kubeVirt bool) Coverage {
	c := Coverage{Reference: ref}
	var r *mirrorset.Registry
	if cfg != nil {
		r = cfg.Find(ref.Name())
	}
	if r != nil {
		c.Source, c.Blocked = r.Prefix, r.Blocked
		if len(serving(r, ref)) > 0 {
			return c
		}
		c.OtherMirrorsOnly = len(r.DigestMirrors)+len(r.TagMirrors) > 0
	}
	switch {
	case kubeVirt:
		c.Code = CodeKubeVirtUnmirrored
	case !ref.IsDigested() && c.OtherMirrorsOnly:
		c.Code = CodeTagWithoutTagMirrors
	default:
		c.Code = CodeUnmirroredRepository
	}
	return c
}

// Covered reports whether a mirror serves the pull.
func (c Coverage) Covered() bool { return c.Code == "" }

// Message says what is wrong and what it breaks. users names the images of
// the repository, for HCM009 ("etcd", "release image"), and the image for
// HCM017; a long list is abbreviated, see nameList. Empty for a covered
// pull.
func (c Coverage) Message(users []string) string {
	fails := "the pull goes to the source, which is unreachable in a disconnected environment"
	if c.Blocked {
		fails = "the source is NeverContactSource, so the pull fails"
	}
	why := "no mirror set covers it"
	switch {
	case c.Source != "" && c.OtherMirrorsOnly && c.Reference.IsDigested():
		why = fmt.Sprintf("source %q covers it with tag mirrors only, which digest pulls do not use", c.Source)
	case c.Source != "" && c.OtherMirrorsOnly:
		why = fmt.Sprintf("source %q covers it with digest mirrors only, which tag pulls do not use", c.Source)
	case c.Source != "":
		why = fmt.Sprintf("source %q has no mirrors", c.Source)
	}
	switch c.Code {
	case CodeUnmirroredRepository:
		who := ""
		if len(users) > 0 {
			who = " (used by " + nameList("images", users) + ")"
		}
		return fmt.Sprintf("repository %s%s is not mirrored: %s; %s", c.Reference.Name(), who, why, fails)
	case CodeTagWithoutTagMirrors:
		subject := c.Reference.String()
		if len(users) > 0 {
			subject = strings.Join(users, ", ") + " " + subject
		}
		return fmt.Sprintf("%s is referenced by tag, but source %q has only digest mirrors, which tag pulls do not use: %s", subject, c.Source, fails)
	case CodeKubeVirtUnmirrored:
		return fmt.Sprintf("the KubeVirt boot image %s is not mirrored (%s): KubeVirt NodePools cannot boot", c.Reference, why)
	}
	return ""
}

// nameListShown is how many names NameList writes before "and N more".
const nameListShown = 5

// nameList writes names for one line of text: all of them when there are
// few, else "190 components (a, b, c, d, e and 185 more)". noun counts
// them; "images" becomes "components" when every name is a component.
func nameList(noun string, names []string) string {
	if len(names) <= nameListShown {
		return strings.Join(names, ", ")
	}
	if noun == "images" && !slices.Contains(names, releaseImageName) && !slices.Contains(names, kubeVirtImageName) {
		noun = "components"
	}
	return fmt.Sprintf("%d %s (%s and %d more)", len(names), noun, strings.Join(names[:nameListShown], ", "), len(names)-nameListShown)
}

// releaseGroup is the position group of release findings: after the sets,
// before the HostedClusters.
const releaseGroup = 1

// Names of the release images that are not components, as findings write
// them.
const (
	releaseImageName  = "release image"
	kubeVirtImageName = "KubeVirt boot image"
)

// releaseRef is one image of a release, with the field that names it.
type releaseRef struct {
	field string
	name  string // component name, or "release image"
	ref   imageref.Reference
}

// refs lists the release image and the components (sorted by name), the
// images HCM009 and HCM017 are about. References that do not parse are left
// out: the release reader rejects them before the linter could be asked.
func (rel *ReleaseImages) refs() []releaseRef {
	var out []releaseRef
	if r, err := imageref.Parse(rel.ReleaseImage); err == nil {
		out = append(out, releaseRef{"image", releaseImageName, r})
	}
	for _, name := range sortedKeys(rel.Components) {
		if r, err := imageref.Parse(rel.Components[name]); err == nil {
			out = append(out, releaseRef{fmt.Sprintf("components[%s]", name), name, r})
		}
	}
	return out
}

func (rel *ReleaseImages) object() string {
	if rel.ReleaseImage == "" {
		return "release"
	}
	return "release " + rel.ReleaseImage
}

// serving returns the mirrors of r that serve a pull of ref.
func serving(r *mirrorset.Registry, ref imageref.Reference) []string {
	if ref.IsDigested() {
		return r.DigestMirrors
	}
	return r.TagMirrors
}

// lintRelease checks that every image of a release can be pulled through the
// management sets (HCM009, HCM017, HCM030). HCM009 is one finding per
// repository, naming every image that uses it (in full in Finding.Images).
func lintRelease(c *collector, g *group, rel *ReleaseImages) {
	refs := rel.refs()
	if g.cfg == nil {
		return
	}
	obj := rel.object()
	type repoUse struct {
		first releaseRef
		cov   Coverage
		users []string
		idx   int
	}
	uncovered := map[string]*repoUse{}
	var order []string
	for i, rr := range refs {
		cov := CheckCoverage(g.cfg, rr.ref, false)
		switch cov.Code {
		case CodeUnmirroredRepository:
			repo := rr.ref.Name()
			u, ok := uncovered[repo]
			if !ok {
				u = &repoUse{first: rr, cov: cov, idx: i}
				uncovered[repo] = u
				order = append(order, repo)
			}
			u.users = append(u.users, rr.name)
		case CodeTagWithoutTagMirrors:
			c.add(position{releaseGroup, 0, i, 0}, cov.Code, obj, rr.field, "%s", cov.Message([]string{rr.name}))
		}
	}
	for _, repo := range order {
		u := uncovered[repo]
		sort.Strings(u.users)
		c.add(position{releaseGroup, 0, u.idx, 0}, u.cov.Code, obj, u.first.field, "%s", u.cov.Message(u.users))
		c.items[len(c.items)-1].f.Images = u.users
	}
	if rel.KubeVirt != "" {
		if ref, err := imageref.Parse(rel.KubeVirt); err == nil {
			if cov := CheckCoverage(g.cfg, ref, true); !cov.Covered() {
				c.add(position{releaseGroup, 1, 0, 0}, cov.Code, obj, "kubevirt", "%s", cov.Message(nil))
			}
		}
	}
}
