package overrides

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// referenceDecodeEnv restates the §4.2 reader a second way (one pass over the
// bytes), so that the fuzzer has something independent to compare against.
func referenceDecodeEnv(s string) Env {
	e := Env{}
	var key, val []byte
	inVal := false
	flush := func() {
		if inVal && len(key) > 0 && len(val) > 0 {
			e[string(key)] = append(e[string(key)], string(val))
		}
		key, val, inVal = key[:0], val[:0], false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ',':
			flush()
		case c == '=' && !inVal:
			inVal = true
		case inVal:
			val = append(val, c)
		default:
			key = append(key, c)
		}
	}
	flush()
	return e
}

// hypershiftWriteEnv does what the semantics document (§4.2) says HyperShift's
// writer does: sources sorted, each source's mirrors sorted in place, one
// source=mirror piece per mirror. It exists only to show what that loses.
func hypershiftWriteEnv(e map[string][]string) string {
	sources := make([]string, 0, len(e))
	for s := range e {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	var pieces []string
	for _, s := range sources {
		sort.Strings(e[s]) // in place: the caller's slice is reordered too
		for _, m := range e[s] {
			pieces = append(pieces, s+"="+m)
		}
	}
	return strings.Join(pieces, ",")
}

// dedup is what EncodeEnv promises to keep: every source with at least one
// mirror, its mirrors in order, later duplicates dropped.
func dedup(e Env) Env {
	out := Env{}
	for s, ms := range e {
		for _, m := range ms {
			if !slices.Contains(out[s], m) {
				out[s] = append(out[s], m)
			}
		}
	}
	return out
}

var equateEmpty = cmpopts.EquateEmpty()

func TestDecodeEnv(t *testing.T) {
	tests := []struct {
		in   string
		want Env
	}{
		// Every row of the semantics table, §4.2.
		{"", Env{}},
		{"=", Env{}},
		{",,,", Env{}},
		{"a=b,", Env{"a": {"b"}}},
		{"=b,a=", Env{}},
		{"a=b,a=b,a=c", Env{"a": {"b", "b", "c"}}},
		{"quay.io=m1,r.io=m2,quay.io=m0", Env{"quay.io": {"m1", "m0"}, "r.io": {"m2"}}},

		{"a", Env{}},
		{"a=b=c", Env{"a": {"b=c"}}},
		{" a = b ", Env{" a ": {" b "}}},
		{`"a=b"`, Env{`"a`: {`b"`}}},
		{"=,quay.io=m", Env{"quay.io": {"m"}}},
		{",a=b,,c,d=,=e,a=c", Env{"a": {"b", "c"}}},
	}
	for _, tt := range tests {
		got := DecodeEnv(tt.in)
		if got == nil {
			t.Errorf("DecodeEnv(%q) = nil, want a non-nil Env", tt.in)
		}
		if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
			t.Errorf("DecodeEnv(%q) (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(referenceDecodeEnv(tt.in), got, equateEmpty); diff != "" {
			t.Errorf("DecodeEnv(%q) differs from the reference (-ref +got):\n%s", tt.in, diff)
		}
	}
}

func TestEncodeEnv(t *testing.T) {
	tests := []struct {
		name string
		in   Env
		want string
	}{
		{"nil", nil, "="},
		{"empty", Env{}, "="},
		{"source without mirrors", Env{"a": nil}, "="},
		{"try order kept", Env{"quay.io/x": {"m2.example.com", "m1.example.com"}}, "quay.io/x=m2.example.com,quay.io/x=m1.example.com"},
		{"sources sorted", Env{"r.io": {"m2"}, "quay.io": {"m1", "m0"}}, "quay.io=m1,quay.io=m0,r.io=m2"},
		{"duplicates dropped keeping the first", Env{"a": {"c", "b", "c", "b", "d"}}, "a=c,a=b,a=d"},
		{"= in mirror", Env{"a": {"b=c"}}, "a=b=c"},
		{"whitespace kept", Env{" a ": {" b "}}, " a = b "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEnv(tt.in)
			if err != nil {
				t.Fatalf("EncodeEnv(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("EncodeEnv(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkEnvRoundTrip(t, tt.in)
		})
	}
}

func TestEncodeEnvRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   Env
		want []string
	}{
		{"empty source", Env{"": {"m"}}, []string{`source ""`}},
		{"sentinel", Env{"": {""}}, []string{`source ""`}},
		{"comma in source", Env{"a,b": {"m"}}, []string{`source "a,b"`}},
		{"= in source", Env{"a=b": {"m"}}, []string{`source "a=b"`}},
		{"empty mirror", Env{"a": {"m", ""}}, []string{`source "a": mirror 2: empty`}},
		{"comma in mirror", Env{"a": {"m,n"}}, []string{`source "a": mirror 1 "m,n"`}},
		{"all reported", Env{"a,": {"m"}, "b": {"x,y"}}, []string{`source "a,"`, `source "b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEnv(tt.in)
			if err == nil {
				t.Fatalf("EncodeEnv(%q) = %q, want an error", tt.in, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("EncodeEnv(%q) error = %q, want it to contain %q", tt.in, err, w)
				}
			}
		})
	}
}

// checkEnvRoundTrip checks, for an Env EncodeEnv accepts, that decoding gives
// it back (minus duplicates) and that re-encoding gives the same bytes.
func checkEnvRoundTrip(t *testing.T, e Env) {
	t.Helper()
	s, err := EncodeEnv(e)
	if err != nil {
		return
	}
	got := DecodeEnv(s)
	if diff := cmp.Diff(dedup(e), got, equateEmpty); diff != "" {
		t.Fatalf("DecodeEnv(EncodeEnv(%q) = %q) (-want +got):\n%s", e, s, diff)
	}
	if s2, err := EncodeEnv(got); err != nil || s2 != s {
		t.Fatalf("EncodeEnv(DecodeEnv(%q)) = %q, %v; want the same string", s, s2, err)
	}
}

func TestEnvRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "=", ",", " ", "quay.io", "/", ":5000", "é"}
	word := func() string {
		var b strings.Builder
		for n := r.IntN(4); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	accepted := 0
	for range 20000 {
		e := Env{}
		for n := r.IntN(4); n > 0; n-- {
			src := word()
			for k := r.IntN(4); k > 0; k-- {
				e[src] = append(e[src], word())
			}
		}
		if _, err := EncodeEnv(e); err == nil {
			accepted++
		}
		checkEnvRoundTrip(t, e)
	}
	if accepted < 1000 {
		t.Errorf("only %d random envs were encodable; the generator tests too little", accepted)
	}
}

func TestEncodeEnvIsDeterministicAndPure(t *testing.T) {
	e := Env{"quay.io/x": {"m2", "m1", "m2"}, "r.io": {"z", "a"}}
	before := Env{"quay.io/x": {"m2", "m1", "m2"}, "r.io": {"z", "a"}}
	first, err := EncodeEnv(e)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if got, _ := EncodeEnv(e); got != first {
			t.Fatalf("EncodeEnv gave %q, then %q", first, got)
		}
	}
	if diff := cmp.Diff(before, e); diff != "" {
		t.Errorf("EncodeEnv changed its input (-before +after):\n%s", diff)
	}
}

// TestHyperShiftWriterLosesPriority is the last row of the §5 table: a mirror
// set that says "m2 first" comes out of HyperShift's writer as "m1 first",
// while ours keeps the order.
func TestHyperShiftWriterLosesPriority(t *testing.T) {
	want := []string{"m2.example.com", "m1.example.com"}

	mirrors := slices.Clone(want)
	theirs := hypershiftWriteEnv(map[string][]string{"quay.io/x": mirrors})
	if got := DecodeEnv(theirs)["quay.io/x"]; slices.Equal(got, want) {
		t.Errorf("HyperShift's writer kept the order %q; the comparison shows nothing", got)
	}
	if slices.Equal(mirrors, want) {
		t.Errorf("HyperShift's writer left its input alone; the doc says it sorts in place")
	}

	e := Env{"quay.io/x": slices.Clone(want)}
	ours, err := EncodeEnv(e)
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeEnv(ours)["quay.io/x"]; !slices.Equal(got, want) {
		t.Errorf("DecodeEnv(EncodeEnv(...)) tries %q, want %q", got, want)
	}
	if !slices.Equal(e["quay.io/x"], want) {
		t.Errorf("EncodeEnv reordered its input to %q", e["quay.io/x"])
	}
	t.Logf("HyperShift: %s\nours:       %s", theirs, ours)
}

func TestEnvIssues(t *testing.T) {
	tests := []struct {
		in    string
		codes []string
		want  []string
	}{
		{"", nil, nil},
		{"=", nil, nil},
		{"=,quay.io=m", nil, nil},
		{"a=b,", nil, nil},
		{"quay.io=m1,r.io=m2,quay.io=m0", nil, nil},
		{",,,", []string{CodeMalformed, CodeMalformed, CodeMalformed}, []string{"piece 1", "piece 2", "piece 3"}},
		{"a=b,,c=d", []string{CodeMalformed}, []string{`piece 2 "": empty piece`}},
		{"quay.io", []string{CodeMalformed}, []string{`piece 1 "quay.io": no "="`}},
		{"=b,a=", []string{CodeMalformed, CodeMalformed}, []string{"empty source", `empty mirror for "a"`}},
		{" a = b ", []string{CodeMalformed, CodeMalformed}, []string{`source " a " has leading`, `mirror " b " has leading`}},
		{"a=b,a=b,a=c", []string{CodeDuplicate}, []string{`piece 2 "a=b": mirror "b" for "a" already given in piece 1`}},
	}
	for _, tt := range tests {
		got := EnvIssues(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("EnvIssues(%q) = %q, want %d issues", tt.in, got, len(tt.want))
			continue
		}
		for i, is := range got {
			if is.Code != tt.codes[i] || !strings.Contains(is.Message, tt.want[i]) {
				t.Errorf("EnvIssues(%q)[%d] = %q, want code %s and message containing %q", tt.in, i, is, tt.codes[i], tt.want[i])
			}
		}
	}
}

func FuzzDecodeEnv(f *testing.F) {
	for _, s := range []string{"", "=", ",,,", "a=b,", "=b,a=", "a=b,a=b,a=c", "quay.io=m1,r.io=m2,quay.io=m0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := DecodeEnv(s)
		if diff := cmp.Diff(referenceDecodeEnv(s), e, equateEmpty); diff != "" {
			t.Fatalf("DecodeEnv(%q) differs from the reference (-ref +got):\n%s", s, diff)
		}
		issues := EnvIssues(s)

		// Whatever the reader produced can be written back, and that is stable.
		s1, err := EncodeEnv(e)
		if err != nil {
			t.Fatalf("EncodeEnv(DecodeEnv(%q)) error: %v", s, err)
		}
		checkEnvRoundTrip(t, e)
		if s1 == s {
			// Our own output skips nothing and repeats nothing; only
			// whitespace it was given can be reported.
			for _, is := range issues {
				if !strings.Contains(is.Message, "whitespace") {
					t.Errorf("EnvIssues(%q) reports %q on a canonical string", s, is)
				}
			}
		}
		// The encoder's refusals are complete for arbitrary strings too.
		checkEnvRoundTrip(t, Env{s: {s, s1}, s1: {s}})
	})
}
