package overrides

import (
	"maps"
	"slices"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// FromConfig derives what the two strings carry from merged mirror sets
// (docs/semantics.md §7.1).
//
// The env form gets every source with all its mirrors in try order: the
// digest group, then tag-group mirrors not already listed. The flag form can
// hold one replacement per source, so it gets the first mirror in that order
// that is not the source itself. Neither can say NeverContactSource or
// digest-versus-tag: consumers that need those read the rendered
// registries.conf instead.
func FromConfig(cfg *mirrorset.Config) (env Env, flag map[string]string) {
	env = Env{}
	flag = map[string]string{}
	for _, r := range cfg.Registries() {
		// Once each, digest group first: the order a consumer that cannot
		// tell digest from tag pulls should probe them.
		mirrors := mirrorset.DedupMirrors(slices.Concat(r.DigestMirrors, r.TagMirrors))
		if len(mirrors) == 0 {
			continue
		}
		env[r.Prefix] = mirrors
		for _, m := range mirrors {
			if m != r.Prefix {
				flag[r.Prefix] = m
				break
			}
		}
	}
	return env, flag
}

// RewriteImage applies static overrides to an image the way HyperShift's
// static --registry-overrides consumer does: the longest key that is the
// whole image or a prefix of it ending before "/" or "@" (or ":" when the key
// holds a "/", so that "quay.io" never captures "quay.io:5000/...") is
// replaced by its value. Management clusters whose runtime ignores mirror
// sets need pod images rewritten this way; with no match the image is kept.
func RewriteImage(static map[string]string, image string) string {
	best := ""
	found := false
	for k := range static {
		if k == "" || len(k) < len(best) || !staticMatch(image, k) {
			continue
		}
		if len(k) > len(best) || !found || k < best {
			best, found = k, true
		}
	}
	if !found {
		return image
	}
	return static[best] + image[len(best):]
}

func staticMatch(image, key string) bool {
	if len(image) < len(key) || image[:len(key)] != key {
		return false
	}
	if len(image) == len(key) {
		return true
	}
	switch image[len(key)] {
	case '/', '@':
		return true
	case ':':
		for i := 0; i < len(key); i++ {
			if key[i] == '/' {
				return true
			}
		}
	}
	return false
}

// ToConfig is the mirror configuration a consumer of the two strings
// applies, for components that fall back to them when the lossless
// registries.conf is absent: each env source with its mirrors in order, then
// the flag's mirror for that source if not already listed. Neither string
// can say digest-versus-tag or NeverContactSource, so every mirror serves
// both kinds of pull and the source stays the last resort.
func ToConfig(env Env, flag map[string]string) (*mirrorset.Config, error) {
	lists := map[string][]string{}
	for _, src := range env.Sources() {
		lists[src] = slices.Clone(env[src])
	}
	for src, m := range flag {
		lists[src] = append(lists[src], m)
	}
	var entries []mirrorset.Entry
	for _, src := range slices.Sorted(maps.Keys(lists)) {
		entries = append(entries, mirrorset.Entry{Source: src, Mirrors: mirrorset.DedupMirrors(lists[src])})
	}
	sets := []mirrorset.Set{
		{Kind: mirrorset.KindIDMS, Name: "OPENSHIFT_IMG_OVERRIDES and --registry-overrides (digests)", Entries: entries},
		{Kind: mirrorset.KindITMS, Name: "OPENSHIFT_IMG_OVERRIDES and --registry-overrides (tags)", Entries: entries},
	}
	if err := mirrorset.Validate(sets); err != nil {
		return nil, err
	}
	return mirrorset.Compile(sets)
}
