package mirrorset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

func TestPatterns(t *testing.T) {
	tests := []struct {
		s              string
		source, mirror bool
	}{
		{"quay.io:443", true, true},
		{"registry/z", true, true},
		{"Quay.IO/x", true, true},
		{"quay.io/NS", false, false},
		{"*.quay.io", true, false},
		{"*.quay.io/x", false, false},
		{"*", false, false},
		{"quay.io/ns/repo:tag", false, false},
		{"quay.io/ns/repo@" + dg, false, false},
		{"https://quay.io/x", false, false},
		{"quay.io/x/", false, false},
		{"quay.io//x", false, false},
		{"[::1]:5000/x", false, false},
		{"quay.io/a__b/c---d/e.f", true, true},
		{"quay.*.io", false, false},
	}
	for _, tt := range tests {
		if got := ValidSource(tt.s); got != tt.source {
			t.Errorf("ValidSource(%q) = %v, want %v", tt.s, got, tt.source)
		}
		if got := ValidMirror(tt.s); got != tt.mirror {
			t.Errorf("ValidMirror(%q) = %v, want %v", tt.s, got, tt.mirror)
		}
	}
}

func TestValidate(t *testing.T) {
	origin := manifest.Origin{File: "sets/idms.yaml", Document: 2}
	tests := []struct {
		name  string
		sets  []Set
		codes []string
		want  []string // substrings, in order
	}{
		{name: "valid", sets: []Set{idms("ok", ent("quay.io/a", "m.example.com/a"))}},
		{name: "bad source and mirror, all reported",
			sets:  []Set{{Kind: KindIDMS, Name: "ocp", Origin: origin, Entries: []Entry{ent("quay.io/a:tag", "m.example.com"), ent("quay.io/b", "https://m", "*.x.io")}}},
			codes: []string{CodeBadSource, CodeBadMirror, CodeBadMirror},
			want: []string{`sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp": spec.imageDigestMirrors[0].source: "quay.io/a:tag" is not a valid source`,
				`spec.imageDigestMirrors[1].mirrors[0]: "https://m"`, `spec.imageDigestMirrors[1].mirrors[1]: "*.x.io"`}},
		{name: "icsp is held to the same patterns", sets: []Set{icsp("old", ent("quay.io/NS", "m.example.com"))},
			codes: []string{CodeBadSource}, want: []string{`ImageContentSourcePolicy "old": spec.repositoryDigestMirrors[0].source`}},
		{name: "duplicate mirror in IDMS", sets: []Set{idms("d", ent("quay.io/a", "m.example.com", "m.example.com"))},
			codes: []string{CodeDuplicate}, want: []string{`mirrors[1]: duplicate mirror "m.example.com"`}},
		{name: "duplicate mirror in ICSP is fine", sets: []Set{icsp("d", ent("quay.io/a", "m.example.com", "m.example.com"))}},
		{name: "policy conflict names every object",
			sets:  []Set{idms("a", ncs("quay.io/a", "m.example.com")), itms("b", ent("quay.io/a", "t.example.com")), icsp("c", ent("quay.io/a", "c.example.com"))},
			codes: []string{CodePolicyConflict},
			want:  []string{`source "quay.io/a" has conflicting mirrorSourcePolicy: NeverContactSource in [ImageDigestMirrorSet "a"`, `ImageContentSourcePolicy "c"`, `ImageTagMirrorSet "b"`}},
		{name: "different source strings do not conflict", sets: []Set{idms("a", ncs("quay.io", "m.example.com")), idms("b", ent("quay.io/ns", "n.example.com"))}},
		{name: "ignored entry does not conflict", sets: []Set{idms("a", ncs("quay.io/a")), idms("b", ent("quay.io/a", "n.example.com"))}},
		{name: "never contact source listing its source", sets: []Set{idms("a", ncs("quay.io/a", "m.example.com", "quay.io/a"))},
			codes: []string{CodeNCSWithSource}, want: []string{`NeverContactSource but the source "quay.io/a" is among its own mirrors`}},
		{name: "bad policy value", sets: []Set{idms("a", Entry{Source: "quay.io/a", Mirrors: []string{"m.example.com"}, Policy: "Never"})},
			codes: []string{CodeBadPolicy}, want: []string{`mirrorSourcePolicy: unsupported value "Never"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.sets)
			var fes []*FieldError
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("error %v is not a *FieldError", e)
					}
					fes = append(fes, fe)
				}
			}
			if len(fes) != len(tt.codes) {
				t.Fatalf("Validate() = %v, want %d errors %v", err, len(tt.codes), tt.codes)
			}
			for i, fe := range fes {
				if fe.Code != tt.codes[i] {
					t.Errorf("error %d code = %s, want %s (%v)", i, fe.Code, tt.codes[i], fe)
				}
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("Validate() =\n%s\nwant it to contain (in order)\n%s", msg, w)
				}
				msg = msg[i+len(w):]
			}
			if _, cerr := Compile(tt.sets); (cerr == nil) != (err == nil) {
				t.Errorf("Compile error = %v, Validate error = %v", cerr, err)
			}
		})
	}
}

func TestCompileContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	set := Set{Kind: KindIDMS, Name: "big"}
	for i := range 1000 {
		set.Entries = append(set.Entries, Entry{Source: fmt.Sprintf("quay.io/ns/repo-%d", i), Mirrors: []string{"m.example.com/r"}})
	}
	if _, err := CompileContext(ctx, []Set{set}); !errors.Is(err, context.Canceled) {
		t.Errorf("CompileContext(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := CompileContext(context.Background(), []Set{set}); err != nil {
		t.Errorf("CompileContext = %v", err)
	}
}
