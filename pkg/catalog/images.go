package catalog

import (
	"slices"
	"strings"
)

// Image is one image a catalog needs mirrored, with the bundles that need
// it, so that a failed copy can be reported per operator.
type Image struct {
	// Ref is the reference as the catalog writes it, normally by digest.
	Ref string
	// Bundle is true when some bundle uses Ref as its bundle image (the
	// image holding its manifests), false when it is only a related image.
	Bundle bool
	// Bundles names the bundles that need Ref, as "package/bundle", sorted.
	Bundles []string
}

// RelatedImages returns every image the bundles of cfg need: each bundle's
// image and its relatedImages, once each (by exact reference), sorted by
// reference. Empty references, which some catalogs carry, are skipped.
func RelatedImages(cfg *Config) []Image {
	byRef := map[string]*Image{}
	add := func(ref string, b *Bundle, isBundle bool) {
		if ref == "" {
			return
		}
		im, ok := byRef[ref]
		if !ok {
			im = &Image{Ref: ref}
			byRef[ref] = im
		}
		im.Bundle = im.Bundle || isBundle
		who := b.Package + "/" + b.Name
		if n := len(im.Bundles); n == 0 || im.Bundles[n-1] != who {
			im.Bundles = append(im.Bundles, who)
		}
	}
	for i := range cfg.Bundles {
		b := &cfg.Bundles[i]
		add(b.Image, b, true)
		for _, r := range b.RelatedImages {
			add(r.Image, b, r.Image == b.Image)
		}
	}
	out := make([]Image, 0, len(byRef))
	for _, im := range byRef {
		slices.Sort(im.Bundles)
		im.Bundles = slices.Compact(im.Bundles)
		out = append(out, *im)
	}
	slices.SortFunc(out, func(a, b Image) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}
