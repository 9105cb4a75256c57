package mirrorset

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOrderMirrors is docs/semantics.md §3.5's examples of the
// machine-config-operator's topological merge.
func TestOrderMirrors(t *testing.T) {
	tests := []struct {
		name   string
		source string
		lists  [][]string
		want   []string
	}{
		{"chained lists", "quay.io/ns", [][]string{{"a", "b", "c"}, {"c", "d", "e"}}, []string{"a", "b", "c", "d", "e"}},
		{"unrelated lists go alphabetical", "quay.io/ns", [][]string{{"registry2.vendor.com"}, {"local-mirror.example.com"}},
			[]string{"local-mirror.example.com", "registry2.vendor.com"}},
		{"conflict puts the source first", "quay.io/ns", [][]string{{"z", "y"}, {"y", "z"}}, []string{"quay.io/ns", "y", "z"}},
		{"conflict alphabetical", "quay.io/ns", [][]string{{"b", "a"}, {"a", "b"}}, []string{"a", "b"}},
		{"source listed mid-way stays", "s", [][]string{{"a", "s", "b"}}, []string{"a", "s", "b"}},
		{"source listed last is dropped", "s", [][]string{{"a", "s"}}, []string{"a"}},
		{"one list keeps its order", "s", [][]string{{"m2", "m1"}}, []string{"m2", "m1"}},
		{"no lists", "s", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, orderMirrors(tt.source, tt.lists)); diff != "" {
				t.Errorf("orderMirrors(%q, %q) (-want +got):\n%s", tt.source, tt.lists, diff)
			}
		})
	}
}

func TestMergeIndependentOfObjectOrder(t *testing.T) {
	a := idms("a", ent("quay.io/ns", "z.example.com", "y.example.com"))
	b := idms("b", ent("quay.io/ns", "y.example.com", "z.example.com"))
	one, err := Compile([]Set{a, b})
	if err != nil {
		t.Fatal(err)
	}
	two, err := Compile([]Set{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(one.RegistriesConf()), string(two.RegistriesConf())); diff != "" {
		t.Errorf("merge depends on object order (-ab +ba):\n%s", diff)
	}
}

func TestMergeGroups(t *testing.T) {
	cfg, err := Compile([]Set{
		icsp("old", ent("quay.io/e", "m1.example.com", "m1.example.com")), // ICSP duplicates are dropped
		idms("new", ncs("quay.io/a", "m1.example.com", "m2.example.com")),
		itms("tags", ncs("quay.io/a", "t.example.com")),
		idms("empty", ncs("quay.io/b")),             // no mirrors: ignored, NCS too
		idms("self", ncs("quay.io/c", "quay.io/c")), // only the source: ignored
		idms("other", ent("quay.io/d", "m.example.com")),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Lookup("quay.io/a")
	if a == nil || !a.Blocked {
		t.Fatalf("quay.io/a = %+v, want blocked", a)
	}
	if diff := cmp.Diff([]string{"m1.example.com", "m2.example.com"}, a.DigestMirrors); diff != "" {
		t.Errorf("digest group (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"t.example.com"}, a.TagMirrors); diff != "" {
		t.Errorf("tag group (-want +got):\n%s", diff)
	}
	if cfg.Lookup("quay.io/b") != nil || cfg.Lookup("quay.io/c") != nil {
		t.Errorf("entries without real mirrors must be ignored")
	}
	if e := cfg.Lookup("quay.io/e"); e == nil || len(e.DigestMirrors) != 1 {
		t.Errorf("quay.io/e = %+v, want one de-duplicated mirror", e)
	}
	if cfg.Len() != 3 {
		t.Errorf("Len() = %d, want 3", cfg.Len())
	}
}
