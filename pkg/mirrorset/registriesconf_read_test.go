package mirrorset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// genConf writes a random registries.conf with every knob that changes
// resolution, including ones mirror sets never produce.
func genConf(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("unqualified-search-registries = [\"docker.io\"]\n")
	locs := append(append([]string{}, genHosts...), "internal.example.com/bar", "quay.io/ns", "https://quay.io", "quay.io/x/")
	for range 1 + r.IntN(5) {
		b.WriteString("\n[[registry]]\n")
		var prefix, loc string
		switch r.IntN(4) {
		case 0: // wildcard, usually without location
			prefix = pick(r, genWildcards)
			if r.IntN(3) == 0 {
				loc = pick(r, locs)
			}
		case 1: // prefix and a different location
			prefix = genSource(r)
			loc = pick(r, locs)
		default: // location only
			loc = join(pick(r, genHosts), pick(r, genPaths))
			if r.IntN(10) == 0 {
				loc += "/"
			}
		}
		if prefix != "" {
			b.WriteString("prefix = " + strconv.Quote(prefix) + "\n")
		}
		b.WriteString("location = " + strconv.Quote(loc) + "\n")
		if r.IntN(4) == 0 {
			b.WriteString("blocked = true\n")
		}
		byDigest := r.IntN(5) == 0
		if byDigest {
			b.WriteString("mirror-by-digest-only = true\n")
		}
		for range r.IntN(4) {
			b.WriteString("[[registry.mirror]]\n")
			b.WriteString("location = " + strconv.Quote(genMirror(r)) + "\n")
			if !byDigest || r.IntN(8) == 0 {
				switch r.IntN(5) {
				case 0:
					b.WriteString("pull-from-mirror = \"digest-only\"\n")
				case 1:
					b.WriteString("pull-from-mirror = \"tag-only\"\n")
				case 2:
					b.WriteString("pull-from-mirror = \"all\"\n")
				}
			}
		}
	}
	return b.String()
}

// TestParseRegistriesConfWithOracle loads random registries.conf files with
// ParseRegistriesConf and with containers/image: both refuse the same files
// and give the same pull sources for every reference.
func TestParseRegistriesConfWithOracle(t *testing.T) {
	seed := *conformanceSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	compared, refused := 0, 0
	for round := 0; round < *conformanceRounds; round++ {
		conf := genConf(r)
		cfg, _, perr := ParseRegistriesConf([]byte(conf))
		sys := oracleFile(t, []byte(conf))
		probe := oracleResolve(sys, "quay.io/probe/x@"+genDigest)
		oracleRefuses := probe.err != nil && strings.HasPrefix(probe.err.Error(), "oracle config")
		if (perr != nil) != oracleRefuses {
			t.Fatalf("seed %d round %d: ParseRegistriesConf error = %v, oracle load error = %v\n%s", seed, round, perr, probe.err, conf)
		}
		if perr != nil {
			refused++
			continue
		}
		for range 20 {
			ref := genRef(r)
			want := oracleResolve(sys, ref)
			got, err := cfg.Resolve(ref)
			compared++
			if (err == nil) != (want.err == nil) {
				t.Fatalf("seed %d round %d: Resolve(%q) error = %v, oracle %v\n%s", seed, round, ref, err, want.err, conf)
			}
			if err == nil && (!slices.Equal(got.References(), want.sources) || got.SourceBlocked != want.blocked) {
				t.Fatalf("seed %d round %d: Resolve(%q) = %q blocked=%v, oracle %q blocked=%v\n%s", seed, round, ref, got.References(), got.SourceBlocked, want.sources, want.blocked, conf)
			}
		}
	}
	if refused == 0 || compared < 1000 {
		t.Fatalf("seed %d: generator too narrow: %d compared, %d refused", seed, compared, refused)
	}
	t.Logf("seed %d: %d answers compared, zero disagreements; %d of %d files refused by both", seed, compared, refused, *conformanceRounds)
}

// TestParseRegistriesConfRoundTrip: what RegistriesConf renders reads back
// to the same answers.
func TestParseRegistriesConfRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		cfg, err := Compile(genSets(r))
		if err != nil {
			continue
		}
		back, notes, err := ParseRegistriesConf(cfg.RegistriesConf())
		if err != nil || len(notes) > 0 {
			t.Fatalf("round %d: reading our own output: %v %v\n%s", round, err, notes, cfg.RegistriesConf())
		}
		for range 10 {
			ref := genRef(r)
			a, aerr := cfg.Resolve(ref)
			b, berr := back.Resolve(ref)
			if fmt.Sprint(aerr) != fmt.Sprint(berr) || !slices.Equal(a.References(), b.References()) || a.SourceBlocked != b.SourceBlocked {
				t.Fatalf("round %d: %s: rendered %q/%v, read back %q/%v", round, ref, a.References(), aerr, b.References(), berr)
			}
		}
	}
}

func TestParseRegistriesConfErrorsAndNotes(t *testing.T) {
	tests := []struct {
		name, conf, wantErr, wantNote string
	}{
		{"v1 refused", "[registries.search]\nregistries = ['quay.io']\n", "v1 format", ""},
		{"scheme", "[[registry]]\nlocation = \"https://quay.io\"\n", "URI schemes", ""},
		{"pull-from-mirror on a registry", "[[registry]]\nlocation = \"quay.io\"\npull-from-mirror = \"all\"\n", "only allowed on a mirror", ""},
		{"bad pull-from-mirror", "[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"some\"\n", `pull-from-mirror "some"`, ""},
		{"conflicting blocked", "[[registry]]\nprefix = \"a.io/x\"\nlocation = \"quay.io\"\n[[registry]]\nprefix = \"a.io/y\"\nlocation = \"quay.io\"\nblocked = true\n", "conflicting", ""},
		{"duplicate prefix noted", "[[registry]]\nlocation = \"quay.io\"\n[[registry]]\nlocation = \"quay.io\"\n", "", "defined again"},
		{"unknown key noted", "[[registry]]\nlocation = \"quay.io\"\nmirrors = 3\n", "", `"registry.mirrors"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, notes, err := ParseRegistriesConf([]byte(tt.conf))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(notes, "\n"), tt.wantNote) {
				t.Errorf("notes = %q, want %q", notes, tt.wantNote)
			}
		})
	}
}

// FuzzParseRegistriesConf: on any input, ParseRegistriesConf and
// containers/image refuse or accept alike, and agree on where images go.
func FuzzParseRegistriesConf(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 8 {
		f.Add(genConf(r))
	}
	f.Add("[[registry]]\nprefix = \"*.x.io\"\nlocation = \"\"\n[[registry.mirror]]\nlocation = \"m.io/a\"\n")
	refs := []string{"quay.io/ns/img@" + genDigest, "a.quay.io/x:1", "docker.io/library/busybox", "internal.example.com/bar/z", "example.com:5000/p@" + genDigest}
	f.Fuzz(func(t *testing.T, conf string) {
		if strings.Contains(conf, "\x00") {
			return
		}
		cfg, _, perr := ParseRegistriesConf([]byte(conf))
		sys := oracleFile(t, []byte(conf))
		probe := oracleResolve(sys, refs[0])
		oracleRefuses := probe.err != nil && strings.HasPrefix(probe.err.Error(), "oracle config")
		if (perr != nil) != oracleRefuses {
			t.Fatalf("ParseRegistriesConf error = %v, oracle load error = %v\n%q", perr, probe.err, conf)
		}
		if perr != nil {
			return
		}
		for _, ref := range refs {
			want := oracleResolve(sys, ref)
			got, err := cfg.Resolve(ref)
			if (err == nil) != (want.err == nil) || (err == nil && (!slices.Equal(got.References(), want.sources) || got.SourceBlocked != want.blocked)) {
				t.Fatalf("Resolve(%q) = %q %v blocked=%v, oracle %q %v blocked=%v\n%q", ref, got.References(), err, got.SourceBlocked, want.sources, want.err, want.blocked, conf)
			}
		}
	})
}
