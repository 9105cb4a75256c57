package mirror

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCatalogFileNames: catalogs are named as oc-mirror names them, and two
// that would share a name (one last path element and tag, other namespaces)
// each get a suffix of where they live, instead of one file for both.
func TestCatalogFileNames(t *testing.T) {
	rec := func(src, repo string) Record {
		return Record{Image: Image{Source: src, Repo: repo, Tag: "v4.16", Kind: KindCatalog}, Root: "mirror.example.com", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	}
	names := func(recs ...Record) []string {
		t.Helper()
		files, _, err := catalogFiles(recs)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			out = append(out, f.Name)
		}
		slices.Sort(out)
		return out
	}
	single := names(rec("registry.redhat.io/redhat/redhat-operator-index:v4.16", "redhat/redhat-operator-index"))
	if diff := cmp.Diff([]string{"cc-redhat-operator-index-v4-16.yaml", "cs-redhat-operator-index-v4-16.yaml"}, single); diff != "" {
		t.Errorf("one catalog (-want +got):\n%s", diff)
	}
	two := names(rec("registry.redhat.io/redhat/redhat-operator-index:v4.16", "redhat/redhat-operator-index"),
		rec("quay.io/acme/redhat-operator-index:v4.16", "acme/redhat-operator-index"))
	if len(two) != 4 || len(slices.Compact(slices.Clone(two))) != 4 {
		t.Errorf("two catalogs sharing a name give files %v, want four distinct", two)
	}
	for _, n := range two {
		if n == single[0] || n == single[1] {
			t.Errorf("a colliding catalog kept the shared name %s", n)
		}
	}
}
