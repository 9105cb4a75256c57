package mirrorset

import (
	"slices"
	"testing"
)

// fuzzSets holds every trap of docs/semantics.md §3 at once.
var fuzzSets = []Set{
	idms("d",
		ent("quay.io", "mirror.example.com/q"),
		ncs(rr, "mirror.example.com/ocp"),
		ent(rr+"/ocp-release", "mirror.example.com/rel", "backup.example.com:5000/rel"),
		ent("*.redhat.io", "mirror.example.com/rh"),
		ent("*.sub.example.com", "w.local:5000"),
		ent("a.sub.example.com", "e.local:5000"),
		ent("docker.io", "mirror.example.com/hub"),
		ent("localhost:5000/x", "registry/z"),
		ent("quay.io/a/b", "mirror.local"),
		ent("example.com", "m.example.com"),
	),
	itms("t",
		ncs("registry.redhat.io/tags", "t.example.com/tags"),
		ent(rr+"/ocp-release", "t.example.com/rel"),
	),
	icsp("c", ent("quay.io/ns", "z.example.com", "y.example.com"), ent("quay.io/ns", "y.example.com", "z.example.com")),
}

// FuzzResolve compares Resolve with containers/image on fuzzed references.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		rr + "/ocp-release:4.16.0-x86_64", rr + "/ocp-v4.0-art-dev@" + dg, "quay.io:443/ns/img@" + dg,
		"registry.redhat.io/redhat/x:v1", "a.sub.example.com/foo", "busybox", "localhost:5000/x/y@" + dg,
		"quay.io/a/b@" + dg, "example.com:5000/p", "registry.redhat.io/tags/t:1", "quay.io/ns/i@" + dg,
	} {
		f.Add(s)
	}
	cfg, err := Compile(fuzzSets)
	if err != nil {
		f.Fatal(err)
	}
	sys := oracleFile(f, cfg.RegistriesConf())
	f.Fuzz(func(t *testing.T, ref string) {
		want := oracleResolve(sys, ref)
		got, err := cfg.Resolve(ref)
		if (err == nil) != (want.err == nil) {
			t.Fatalf("Resolve(%q) error = %v, oracle error = %v", ref, err, want.err)
		}
		if err != nil {
			return
		}
		if !slices.Equal(got.References(), want.sources) || got.SourceBlocked != want.blocked {
			t.Fatalf("Resolve(%q) = %q blocked=%v, oracle %q blocked=%v", ref, got.References(), got.SourceBlocked, want.sources, want.blocked)
		}
	})
}
