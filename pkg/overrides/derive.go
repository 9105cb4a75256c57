package overrides

import (
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

// ToConfig is the inverse of [FromConfig], as far as the strings allow: the
// mirror configuration a HyperShift component reading OPENSHIFT_IMG_OVERRIDES
// (env) and --registry-overrides (flag) works with. Each source gets the env
// mirrors in order, then the flag's replacement; both digest and tag pulls
// are redirected (the strings cannot tell them apart) and the source stays a
// fallback (they cannot say NeverContactSource).
func ToConfig(env Env, flag map[string]string) (*mirrorset.Config, error) {
	sources := env.Sources()
	for s := range flag {
		if _, ok := env[s]; !ok {
			sources = append(sources, s)
		}
	}
	slices.Sort(sources)
	var entries []mirrorset.Entry
	for _, s := range sources {
		mirrors := slices.Clone(env[s])
		if m, ok := flag[s]; ok && m != "" {
			mirrors = append(mirrors, m)
		}
		mirrors = mirrorset.DedupMirrors(mirrors)
		if len(mirrors) == 0 {
			continue
		}
		entries = append(entries, mirrorset.Entry{Source: s, Mirrors: mirrors})
	}
	sets := []mirrorset.Set{
		{Kind: mirrorset.KindIDMS, Name: "registry-overrides", Entries: entries},
		{Kind: mirrorset.KindITMS, Name: "registry-overrides", Entries: slices.Clone(entries)},
	}
	// The strings come from a Deployment anyone may have edited: refuse
	// what no mirror set could say, as the sets' own loader does.
	if err := mirrorset.Validate(sets); err != nil {
		return nil, err
	}
	return mirrorset.Compile(sets)
}
