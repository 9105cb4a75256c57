package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// releaseGroup is the position group of release findings: after the sets,
// before the HostedClusters.
const releaseGroup = 1

// releaseRef is one image of a release, with the field that names it.
type releaseRef struct {
	field string
	name  string // component name, or "release image" / "KubeVirt boot image"
	ref   imageref.Reference
}

// refs lists the release image and the components (sorted by name), the
// images HCM009 and HCM017 are about. References that do not parse are left
// out: the release reader rejects them before the linter could be asked.
func (rel *ReleaseImages) refs() []releaseRef {
	var out []releaseRef
	if r, err := imageref.Parse(rel.ReleaseImage); err == nil {
		out = append(out, releaseRef{"image", "release image", r})
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
// management sets (HCM009, HCM017, HCM030).
func lintRelease(c *collector, g *group, rel *ReleaseImages) {
	refs := rel.refs()
	if g.cfg == nil {
		return
	}
	obj := rel.object()
	type repoUse struct {
		first releaseRef
		users []string
		idx   int
	}
	uncovered := map[string]*repoUse{}
	var order []string
	for i, rr := range refs {
		r := g.cfg.Find(rr.ref.Name())
		if r == nil || (rr.ref.IsDigested() && len(r.DigestMirrors) == 0) {
			repo := rr.ref.Name()
			u, ok := uncovered[repo]
			if !ok {
				u = &repoUse{first: rr, idx: i}
				uncovered[repo] = u
				order = append(order, repo)
			}
			u.users = append(u.users, rr.name)
			continue
		}
		if !rr.ref.IsDigested() && len(r.TagMirrors) == 0 {
			what := "the pull goes to the source, which is unreachable in a disconnected environment"
			if r.Blocked {
				what = "the source is NeverContactSource, so the pull fails"
			}
			c.add(position{releaseGroup, 0, i, 0}, "HCM017", obj, rr.field,
				"%s %s is referenced by tag, but source %q has only digest mirrors, which tag pulls do not use: %s", rr.name, rr.ref, r.Prefix, what)
		}
	}
	for _, repo := range order {
		u := uncovered[repo]
		r := g.cfg.Find(repo)
		users := u.users
		sort.Strings(users)
		why := "no source covers it"
		if r != nil {
			why = fmt.Sprintf("source %q covers it with tag mirrors only, which digest pulls do not use", r.Prefix)
		}
		c.add(position{releaseGroup, 0, u.idx, 0}, "HCM009", obj, u.first.field,
			"repository %s (used by %s) is not mirrored: %s, so its images are pulled from the source, which is unreachable in a disconnected environment", repo, strings.Join(users, ", "), why)
	}
	if rel.KubeVirt != "" {
		if ref, err := imageref.Parse(rel.KubeVirt); err == nil {
			r := g.cfg.Find(ref.Name())
			if r == nil || len(serving(r, ref)) == 0 {
				why := "no source covers it"
				if r != nil {
					why = fmt.Sprintf("source %q has no mirror serving this pull", r.Prefix)
				}
				c.add(position{releaseGroup, 1, 0, 0}, "HCM030", obj, "kubevirt",
					"the KubeVirt boot image %s is not mirrored (%s): KubeVirt NodePools cannot boot", ref, why)
			}
		}
	}
}
