package mirrorset

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	dg = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	rr = "quay.io/openshift-release-dev"
)

func idms(name string, entries ...Entry) Set {
	return Set{Kind: KindIDMS, Name: name, Entries: entries}
}
func itms(name string, entries ...Entry) Set {
	return Set{Kind: KindITMS, Name: name, Entries: entries}
}
func icsp(name string, entries ...Entry) Set {
	return Set{Kind: KindICSP, Name: name, Entries: entries}
}
func ent(source string, mirrors ...string) Entry {
	return Entry{Source: source, Mirrors: mirrors}
}
func ncs(source string, mirrors ...string) Entry {
	return Entry{Source: source, Mirrors: mirrors, Policy: NeverContactSource}
}

type resolveCase struct {
	name    string
	sets    []Set
	ref     string
	want    []string
	blocked bool
	wantErr bool
}

// checkResolve checks one case against the expectation and the oracle.
func checkResolve(t *testing.T, tt resolveCase) {
	t.Helper()
	cfg, err := Compile(tt.sets)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	got, err := cfg.Resolve(tt.ref)
	oracle := oracleResolve(oracleFile(t, cfg.RegistriesConf()), tt.ref)
	if tt.wantErr {
		var rw *RewriteError
		if !errors.As(err, &rw) {
			t.Fatalf("Resolve(%q) error = %v, want a RewriteError", tt.ref, err)
		}
		if oracle.err == nil {
			t.Fatalf("oracle accepted %q: %q", tt.ref, oracle.sources)
		}
		return
	}
	if err != nil {
		t.Fatalf("Resolve(%q) = %v", tt.ref, err)
	}
	if diff := cmp.Diff(tt.want, got.References()); diff != "" {
		t.Errorf("Resolve(%q) pull sources (-want +got):\n%s", tt.ref, diff)
	}
	if got.SourceBlocked != tt.blocked {
		t.Errorf("Resolve(%q).SourceBlocked = %v, want %v", tt.ref, got.SourceBlocked, tt.blocked)
	}
	if !slices.Equal(oracle.sources, got.References()) || oracle.blocked != got.SourceBlocked {
		t.Errorf("oracle disagrees: %q blocked=%v", oracle.sources, oracle.blocked)
	}
}

// TestResolveSemanticsVectors is docs/semantics.md §5's table, column "Ours".
func TestResolveSemanticsVectors(t *testing.T) {
	tests := []resolveCase{
		{name: "substring is not a prefix", sets: []Set{idms("a", ent("quay.io", "mirror.example.com"))},
			ref: "quay.io.evil.com/x/y@" + dg, want: []string{"quay.io.evil.com/x/y@" + dg}},
		{name: "longest prefix wins", sets: []Set{idms("a", ent("quay.io", "broad.example.com"), ent(rr, "narrow.example.com/ns"))},
			ref: rr + "/ocp-release@" + dg, want: []string{"narrow.example.com/ns/ocp-release@" + dg, rr + "/ocp-release@" + dg}},
		{name: "registry is part of the match", sets: []Set{idms("a", ent(rr, "mirror.example.com/ocp"))},
			ref: "other.io/openshift-release-dev/ocp-release@" + dg, want: []string{"other.io/openshift-release-dev/ocp-release@" + dg}},
		{name: "mirror path kept whole", sets: []Set{idms("a", ent(rr, "mirror.example.com/quay.io/openshift-release-dev"))},
			ref: rr + "/ocp-release@" + dg, want: []string{"mirror.example.com/quay.io/openshift-release-dev/ocp-release@" + dg, rr + "/ocp-release@" + dg}},
		{name: "deeper repository under a repository source", sets: []Set{idms("a", ent("quay.io/a/b", "mirror.example.com/m"))},
			ref: "quay.io/a/b/c@" + dg, want: []string{"mirror.example.com/m/c@" + dg, "quay.io/a/b/c@" + dg}},
		{name: "repository to repository with port", sets: []Set{idms("a", ent(rr+"/ocp-v4.0-art-dev", "registry.local:5000/ocp-art"))},
			ref: rr + "/ocp-v4.0-art-dev@" + dg, want: []string{"registry.local:5000/ocp-art@" + dg, rr + "/ocp-v4.0-art-dev@" + dg}},
		{name: "root source with port", sets: []Set{idms("a", ent("myreg.example.com:5000", "mirror.example.com"))},
			ref: "myreg.example.com:5000/ns/img@" + dg, want: []string{"mirror.example.com/ns/img@" + dg, "myreg.example.com:5000/ns/img@" + dg}},
		{name: "one-component path on a root source", sets: []Set{idms("a", ent("quay.io", "mirror.example.com"))},
			ref: "quay.io/img@" + dg, want: []string{"mirror.example.com/img@" + dg, "quay.io/img@" + dg}},
		{name: "wildcard", sets: []Set{idms("a", ent("*.redhat.io", "mirror.example.com/rh"))},
			ref:  "registry.redhat.io/redhat/redhat-operator-index@" + dg,
			want: []string{"mirror.example.com/rh/redhat/redhat-operator-index@" + dg, "registry.redhat.io/redhat/redhat-operator-index@" + dg}},
		{name: "docker hub short name", sets: []Set{idms("a", ent("docker.io", "mirror.example.com"))},
			ref: "busybox@" + dg, want: []string{"mirror.example.com/library/busybox@" + dg, "docker.io/library/busybox@" + dg}},
		{name: "host-only source matches a port", sets: []Set{idms("a", ent("quay.io", "mirror.example.com"))},
			ref: "quay.io:443/ns/img@" + dg, want: []string{"mirror.example.com:443/ns/img@" + dg, "quay.io:443/ns/img@" + dg}},
		{name: "port behind a mirror path fails the pull", sets: []Set{idms("a", ent("quay.io", "mirror.example.com/q"))},
			ref: "quay.io:443/ns/img@" + dg, wantErr: true},
		{name: "digest mirrors do not serve tags", sets: []Set{idms("a", ent(rr+"/ocp-release", "mirror.example.com/rel"))},
			ref: rr + "/ocp-release:4.16.0-x86_64", want: []string{rr + "/ocp-release:4.16.0-x86_64"}},
		{name: "never contact source", sets: []Set{idms("a", ncs(rr, "mirror.example.com/ocp"))},
			ref: rr + "/ocp-release@" + dg, want: []string{"mirror.example.com/ocp/ocp-release@" + dg}, blocked: true},
		{name: "mirror order kept", sets: []Set{idms("a", ent("quay.io/x", "m2.example.com", "m1.example.com"))},
			ref: "quay.io/x/y@" + dg, want: []string{"m2.example.com/y@" + dg, "m1.example.com/y@" + dg, "quay.io/x/y@" + dg}},
		{name: "single-label mirror host fails the pull", sets: []Set{idms("a", ent("quay.io/a", "registry/z"))},
			ref: "quay.io/a/b@" + dg, wantErr: true},
		{name: "repository onto bare host fails", sets: []Set{idms("a", ent("quay.io/a/b", "mirror.local"))},
			ref: "quay.io/a/b@" + dg, wantErr: true},
		{name: "repository onto bare host works one level down", sets: []Set{idms("a", ent("quay.io/a/b", "mirror.local"))},
			ref: "quay.io/a/b/c@" + dg, want: []string{"mirror.local/c@" + dg, "quay.io/a/b/c@" + dg}},
		{name: "path boundary", sets: []Set{idms("a", ent("docker.io/library", "m.example.com"))},
			ref: "docker.io/libraryx/y@" + dg, want: []string{"docker.io/libraryx/y@" + dg}},
		{name: "wildcard never matches the apex", sets: []Set{idms("a", ent("*.example.com", "m.local"))},
			ref: "example.com/x@" + dg, want: []string{"example.com/x@" + dg}},
		{name: "wildcard keeps the port in the remainder", sets: []Set{idms("a", ent("*.example.com", "m.local"))},
			ref: "a.b.example.com:5000/x@" + dg, want: []string{"m.local:5000/x@" + dg, "a.b.example.com:5000/x@" + dg}},
		{name: "wildcard first-occurrence quirk", sets: []Set{idms("a", ent("*.example.com", "m.local"))},
			ref: "a.example.com.example.com/x@" + dg, want: []string{"a.example.com.example.com/x@" + dg}},
		{name: "wildcard beats exact prefix of equal length", sets: []Set{idms("a", ent("*.sub.example.com", "w.local"), ent("a.sub.example.com", "e.local"))},
			ref: "a.sub.example.com/foo@" + dg, want: []string{"w.local/foo@" + dg, "a.sub.example.com/foo@" + dg}},
		{name: "name-only reference is a tag pull", sets: []Set{itms("t", ent("quay.io/a", "m.local/t")), idms("d", ent("quay.io/a", "m.local/d"))},
			ref: "quay.io/a/b", want: []string{"m.local/t/b", "quay.io/a/b"}},
		{name: "tag and digest together is a digest pull", sets: []Set{itms("t", ent("quay.io/a", "m.local/t")), idms("d", ent("quay.io/a", "m.local/d"))},
			ref: "quay.io/a/b:v1@" + dg, want: []string{"m.local/d/b:v1@" + dg, "quay.io/a/b:v1@" + dg}},
		{name: "mirror under a blocked entry is refused", sets: []Set{idms("a", ent("quay.io/a", "m.example.com/x"), ncs("m.example.com", "other.example.com"))},
			ref: "quay.io/a/b@" + dg, want: []string{"quay.io/a/b@" + dg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkResolve(t, tt) })
	}
}

// TestResolveRegistriesConfExample is the example of docs/semantics.md §3.6.
func TestResolveRegistriesConfExample(t *testing.T) {
	sets := []Set{
		idms("art", ncs(rr+"/ocp-v4.0-art-dev", "mirror.example.com/ocp/release")),
		idms("rel", ent(rr+"/ocp-release", "mirror.example.com/ocp/release-images")),
		itms("rel", ent(rr+"/ocp-release", "mirror.example.com/ocp/release-images")),
	}
	cfg, err := Compile(sets)
	if err != nil {
		t.Fatal(err)
	}
	wantConf := `unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]

[[registry]]
  location = "quay.io/openshift-release-dev/ocp-release"
  [[registry.mirror]]
    location = "mirror.example.com/ocp/release-images"
    pull-from-mirror = "digest-only"
  [[registry.mirror]]
    location = "mirror.example.com/ocp/release-images"
    pull-from-mirror = "tag-only"

[[registry]]
  location = "quay.io/openshift-release-dev/ocp-v4.0-art-dev"
  blocked = true
  [[registry.mirror]]
    location = "mirror.example.com/ocp/release"
    pull-from-mirror = "digest-only"
`
	if diff := cmp.Diff(wantConf, string(cfg.RegistriesConf())); diff != "" {
		t.Errorf("RegistriesConf() (-want +got):\n%s", diff)
	}
	tests := []resolveCase{
		{ref: rr + "/ocp-v4.0-art-dev@" + dg, want: []string{"mirror.example.com/ocp/release@" + dg}, blocked: true},
		{ref: rr + "/ocp-v4.0-art-dev:latest", want: []string{}, blocked: true},
		{ref: rr + "/ocp-release:4.16.0-x86_64", want: []string{"mirror.example.com/ocp/release-images:4.16.0-x86_64", rr + "/ocp-release:4.16.0-x86_64"}},
		{ref: rr + "/ocp-release@" + dg, want: []string{"mirror.example.com/ocp/release-images@" + dg, rr + "/ocp-release@" + dg}},
	}
	for _, tt := range tests {
		tt.sets = sets
		t.Run(strings.TrimPrefix(tt.ref, rr+"/"), func(t *testing.T) { checkResolve(t, tt) })
	}
}
