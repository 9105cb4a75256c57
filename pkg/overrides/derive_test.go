package overrides

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

func TestFromConfig(t *testing.T) {
	cfg, err := mirrorset.Compile([]mirrorset.Set{
		{Kind: mirrorset.KindIDMS, Name: "d", Entries: []mirrorset.Entry{
			{Source: "quay.io/x", Mirrors: []string{"m2.example.com", "m1.example.com"}},
			{Source: "quay.io/ocp", Mirrors: []string{"mirror.example.com/ocp"}, Policy: mirrorset.NeverContactSource},
		}},
		{Kind: mirrorset.KindITMS, Name: "t", Entries: []mirrorset.Entry{
			{Source: "quay.io/x", Mirrors: []string{"m1.example.com", "t.example.com"}},
		}},
		{Kind: mirrorset.KindIDMS, Name: "conflict-a", Entries: []mirrorset.Entry{{Source: "quay.io/ns", Mirrors: []string{"z.example.com", "y.example.com"}}}},
		{Kind: mirrorset.KindIDMS, Name: "conflict-b", Entries: []mirrorset.Entry{{Source: "quay.io/ns", Mirrors: []string{"y.example.com", "z.example.com"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	env, flag := FromConfig(cfg)
	wantEnv := Env{
		"quay.io/x":   {"m2.example.com", "m1.example.com", "t.example.com"},
		"quay.io/ocp": {"mirror.example.com/ocp"},
		// The MCO merge puts the source first on conflicting orders (§3.5).
		"quay.io/ns": {"quay.io/ns", "y.example.com", "z.example.com"},
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantFlag := map[string]string{"quay.io/x": "m2.example.com", "quay.io/ocp": "mirror.example.com/ocp", "quay.io/ns": "y.example.com"}
	if diff := cmp.Diff(wantFlag, flag); diff != "" {
		t.Errorf("flag (-want +got):\n%s", diff)
	}
	enc, err := EncodeEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(env, DecodeEnv(enc)); diff != "" {
		t.Errorf("env does not round-trip through %q (-want +got):\n%s", enc, diff)
	}
}

func TestToConfig(t *testing.T) {
	env := DecodeEnv("quay.io/ocp=m1.example.com/ocp,quay.io/ocp=m2.example.com/ocp")
	flag := map[string]string{"quay.io/ocp": "m1.example.com/ocp", "registry.redhat.io/ubi": "m3.example.com/ubi"}
	cfg, err := ToConfig(env, flag)
	if err != nil {
		t.Fatalf("ToConfig() = %v", err)
	}
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"quay.io/ocp/release@sha256:" + sha, []string{"m1.example.com/ocp/release@sha256:" + sha, "m2.example.com/ocp/release@sha256:" + sha, "quay.io/ocp/release@sha256:" + sha}},
		{"quay.io/ocp/release:4.16", []string{"m1.example.com/ocp/release:4.16", "m2.example.com/ocp/release:4.16", "quay.io/ocp/release:4.16"}},
		{"registry.redhat.io/ubi/ubi9:latest", []string{"m3.example.com/ubi/ubi9:latest", "registry.redhat.io/ubi/ubi9:latest"}},
		{"docker.io/library/busybox:1", []string{"docker.io/library/busybox:1"}},
	} {
		res, err := cfg.Resolve(tc.ref)
		if err != nil {
			t.Fatalf("Resolve(%s) = %v", tc.ref, err)
		}
		if diff := cmp.Diff(tc.want, res.References()); diff != "" {
			t.Errorf("Resolve(%s) (-want +got):\n%s", tc.ref, diff)
		}
	}
	if _, err := ToConfig(Env{"quay.io/a:tag": {"m.example.com"}}, nil); err == nil {
		t.Error("ToConfig with a tagged source = nil error, want the validation error")
	}
}

const sha = "1111111111111111111111111111111111111111111111111111111111111111"

func TestToConfigFirstMirror(t *testing.T) {
	cfg, err := ToConfig(Env{"quay.io/ocp": {"m1.example/ocp", "m2.example/ocp"}}, map[string]string{"quay.io/ocp": "m3.example/ocp", "registry.example": "m4.example"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ ref, want string }{
		{"quay.io/ocp/release@sha256:" + strings.Repeat("a", 64), "m1.example/ocp/release@sha256:" + strings.Repeat("a", 64)},
		{"quay.io/ocp/release:4.16", "m1.example/ocp/release:4.16"},
		{"registry.example/x:1", "m4.example/x:1"},
	}
	for _, tt := range tests {
		res, err := cfg.Resolve(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		refs := res.References()
		if len(refs) == 0 || refs[0] != tt.want {
			t.Errorf("Resolve(%s) = %v, want first %s", tt.ref, refs, tt.want)
		}
		if refs[len(refs)-1] != tt.ref {
			t.Errorf("Resolve(%s) = %v, want the source last", tt.ref, refs)
		}
	}
}
