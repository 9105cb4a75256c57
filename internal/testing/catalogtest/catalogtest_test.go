package catalogtest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
)

func TestBuildIsReproducible(t *testing.T) {
	a, err := catalogtest.Build("registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := catalogtest.Build("registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Index.Digest()
	db, _ := b.Index.Digest()
	if da != db {
		t.Errorf("two builds: %s and %s", da, db)
	}
	for _, bundle := range catalogtest.AllBundles {
		refs := a.BundleImages[bundle]
		if len(refs) < 2 {
			t.Errorf("%s: images %v, want the bundle image and related images", bundle, refs)
		}
		for _, r := range refs {
			if _, ok := a.Images[r]; !ok {
				t.Errorf("%s: %s is not built", bundle, r)
			}
			if !strings.HasPrefix(r, "registry.example.com/") {
				t.Errorf("%s: %s is not under the given host", bundle, r)
			}
		}
	}
	heads := a.Refs(catalogtest.HeadBundles)
	all := a.Refs(catalogtest.AllBundles)
	if len(heads) >= len(all) || !slices.IsSorted(all) {
		t.Errorf("Refs: heads %d, all %d (sorted %v)", len(heads), len(all), slices.IsSorted(all))
	}
	if len(all) != len(a.Images) {
		t.Errorf("every bundle's images: %d refs, %d images built", len(all), len(a.Images))
	}
}
