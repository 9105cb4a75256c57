package mirrorset

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	conformanceSeed   = flag.Uint64("conformance.seed", 0, "seed for TestConformanceWithOracle (0: time-based)")
	conformanceRounds = flag.Int("conformance.rounds", 400, "random configurations in TestConformanceWithOracle")
)

// Vocabulary chosen so that random sets collide: shared hosts at several
// depths, ports, wildcards at two levels, Docker Hub, single-label hosts.
var (
	genHosts = []string{
		"quay.io", "a.quay.io", "b.a.quay.io", "quay.io:5000", "quay.io:443", "registry.redhat.io",
		"docker.io", "localhost", "localhost:5000", "mirror.example.com", "m1.example.com",
		"m2.example.com:5000", "registry", "example.com", "a.example.com", "example.com:5000",
	}
	genWildcards = []string{"*.quay.io", "*.a.quay.io", "*.example.com", "*.io", "*.redhat.io"}
	genPaths     = []string{"", "a", "ns", "library", "a/b", "ns/img", "openshift-release-dev", "openshift-release-dev/ocp-release", "x-y/z"}
	genRefPaths  = []string{"a", "img", "a/b", "a/b/c", "ns/img", "library/busybox", "openshift-release-dev/ocp-release", "openshift-release-dev/ocp-v4.0-art-dev", "x-y/z/w"}
	genDigest    = "sha256:" + strings.Repeat("ab", 32)
)

func join(host, path string) string {
	if path == "" {
		return host
	}
	return host + "/" + path
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func genSource(r *rand.Rand) string {
	if r.IntN(8) == 0 {
		return pick(r, genWildcards)
	}
	return join(pick(r, genHosts), pick(r, genPaths))
}

func genMirror(r *rand.Rand) string {
	return join(pick(r, genHosts), pick(r, genPaths))
}

func genSets(r *rand.Rand) []Set {
	kinds := []Kind{KindIDMS, KindITMS, KindICSP, KindImageContentSources}
	n := 1 + r.IntN(4)
	sets := make([]Set, 0, n)
	for i := range n {
		k := pick(r, kinds)
		s := Set{Kind: k, Name: fmt.Sprintf("set-%d", i)}
		for range 1 + r.IntN(5) {
			e := Entry{Source: genSource(r)}
			for range r.IntN(4) {
				m := genMirror(r)
				if !slices.Contains(e.Mirrors, m) {
					e.Mirrors = append(e.Mirrors, m)
				}
			}
			if (k == KindIDMS || k == KindITMS) && r.IntN(3) == 0 {
				e.Policy = NeverContactSource
			}
			s.Entries = append(s.Entries, e)
		}
		sets = append(sets, s)
	}
	return sets
}

func genRef(r *rand.Rand) string {
	var host string
	switch r.IntN(6) {
	case 0:
		host = pick(r, []string{"x.quay.io", "c.b.a.quay.io", "y.example.com:5000", "registry.redhat.io", "quay.io.evil.com", "a.example.com.example.com"})
	case 1:
		host = "" // Docker Hub short names
	default:
		host = pick(r, genHosts)
	}
	ref := pick(r, genRefPaths)
	if host != "" {
		ref = host + "/" + ref
	}
	switch r.IntN(4) {
	case 0:
		ref += "@" + genDigest
	case 1:
		ref += ":v1"
	case 2:
		ref += ":v1@" + genDigest
	}
	return ref
}

// TestConformanceWithOracle generates random mirror sets and references and
// checks every answer of Resolve against containers/image loading the
// registries.conf we render. Any disagreement is a bug in one of them or in
// docs/semantics.md; rerun with -conformance.seed to reproduce.
func TestConformanceWithOracle(t *testing.T) {
	seed := *conformanceSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	compared, rejected := 0, 0
	var errored, blocked, unpullable, mirrored int
	for round := 0; round < *conformanceRounds; round++ {
		sets := genSets(r)
		cfg, err := Compile(sets)
		if err != nil {
			rejected++
			continue
		}
		conf := cfg.RegistriesConf()
		sys := oracleFile(t, conf)
		for range 25 {
			ref := genRef(r)
			want := oracleResolve(sys, ref)
			got, gerr := cfg.Resolve(ref)
			compared++
			fail := func(format string, args ...any) {
				t.Fatalf("seed %d round %d: Resolve(%q): %s\nregistries.conf:\n%s", seed, round, ref, fmt.Sprintf(format, args...), conf)
			}
			if (gerr == nil) != (want.err == nil) {
				fail("error = %v, oracle error = %v", gerr, want.err)
			}
			if gerr != nil {
				errored++
				continue
			}
			if got.SourceBlocked {
				blocked++
			}
			if len(got.PullSources) == 0 {
				unpullable++
			}
			if len(got.PullSources) > 1 {
				mirrored++
			}
			if gotSources := got.References(); !slices.Equal(gotSources, want.sources) {
				fail("pull sources = %q, oracle %q", gotSources, want.sources)
			}
			if got.SourceBlocked != want.blocked {
				fail("sourceBlocked = %v, oracle %v", got.SourceBlocked, want.blocked)
			}
		}
	}
	if compared < 1000 || errored == 0 || blocked == 0 || unpullable == 0 || mirrored == 0 {
		t.Fatalf("seed %d: generator too narrow: %d answers compared, %d errors, %d blocked, %d unpullable, %d mirrored (%d configurations rejected)",
			seed, compared, errored, blocked, unpullable, mirrored, rejected)
	}
	t.Logf("seed %d: %d answers compared, zero disagreements (%d rewrite errors, %d blocked sources, %d unpullable, %d through mirrors); %d of %d random configurations rejected by validation",
		seed, compared, errored, blocked, unpullable, mirrored, rejected, *conformanceRounds)
}
