package overrides

import (
	"io"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

const flagName = "registry-overrides"

// pflagDecode is the oracle: the value HyperShift's components get from a real
// pflag string-to-string flag given these occurrences on the command line.
func pflagDecode(values ...string) (map[string]string, error) {
	fs := pflag.NewFlagSet("oracle", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	m := fs.StringToString(flagName, nil, "")
	args := make([]string, len(values))
	for i, v := range values {
		args[i] = "--" + flagName + "=" + v
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return *m, nil
}

// checkAgainstPflag fails t unless decodeFlagRaw and pflag agree on values:
// both fail, or both give the same map.
func checkAgainstPflag(t *testing.T, values ...string) {
	t.Helper()
	got, gotErr := decodeFlagRaw(values)
	want, wantErr := pflagDecode(values...)
	switch {
	case (gotErr != nil) != (wantErr != nil):
		t.Errorf("decodeFlagRaw(%q) error = %v, pflag error = %v", values, gotErr, wantErr)
	case gotErr == nil && !maps.Equal(got, want):
		t.Errorf("decodeFlagRaw(%q) = %q, pflag gives %q", values, got, want)
	}
}

func TestDecodeFlag(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   map[string]string // nil: an error is expected
	}{
		// Every row of the semantics table, §4.1.
		{name: "sentinel only", values: []string{"="}, want: map[string]string{}},
		{name: "trailing comma with one =", values: []string{"a=b,"}, want: map[string]string{"a": "b,"}},
		{name: "trailing comma with two =", values: []string{"a=b,c=d,"}},
		{name: "split at first =", values: []string{"a=b=c"}, want: map[string]string{"a": "b=c"}},
		{name: "later duplicate wins", values: []string{"a=b,a=c"}, want: map[string]string{"a": "c"}},
		{name: "no trimming", values: []string{" a = b "}, want: map[string]string{" a ": " b "}},
		{name: "quotes trimmed with one =", values: []string{`"a=b"`}, want: map[string]string{"a": "b"}},
		{name: "empty value", values: []string{""}},

		{name: "no =", values: []string{"quay.io"}},
		{name: "canonical", values: []string{"quay.io=m.example.com,registry.redhat.io=m.example.com/rh"},
			want: map[string]string{"quay.io": "m.example.com", "registry.redhat.io": "m.example.com/rh"}},
		{name: "every quote trimmed with one =", values: []string{`""a=b"""`}, want: map[string]string{"a": "b"}},
		{name: "lone opening quote trimmed", values: []string{`"a=b`}, want: map[string]string{"a": "b"}},
		{name: "inner quote kept with one =", values: []string{`a="b`}, want: map[string]string{"a": `"b`}},
		{name: "commas kept with one =", values: []string{"a=b,c,d"}, want: map[string]string{"a": "b,c,d"}},
		{name: "empty key with one =", values: []string{"=b"}, want: map[string]string{"": "b"}},
		{name: "empty value with one =", values: []string{"a="}, want: map[string]string{"a": ""}},
		{name: "sentinel beside a pair is dropped", values: []string{"=,a=b"}, want: map[string]string{"a": "b"}},
		{name: "csv field without =", values: []string{"a=b,c,d=e"}},
		{name: "csv empty field in the middle", values: []string{"a=b,,c=d"}},
		{name: "csv quoted field with comma", values: []string{`"a=b,c",d=e`}, want: map[string]string{"a": "b,c", "d": "e"}},
		{name: "csv doubled quote", values: []string{`"a=""b""",c=d`}, want: map[string]string{"a": `"b"`, "c": "d"}},
		{name: "csv bare quote", values: []string{`a=b",c=d`}},
		{name: "csv unterminated quote", values: []string{`"a=b,c=d`}},
		{name: "csv text after closing quote", values: []string{`"a=b"x,c=d`}},
		{name: "csv two records", values: []string{"a=b\nc=d,e=f"}},
		{name: "csv trailing newline", values: []string{"a=b,c=d\n"}, want: map[string]string{"a": "b", "c": "d"}},
		{name: "csv leading blank lines", values: []string{"\n\na=b,c=d"}, want: map[string]string{"a": "b", "c": "d"}},
		{name: "csv trailing carriage return dropped", values: []string{"a=b,c=d\r"}, want: map[string]string{"a": "b", "c": "d"}},
		{name: "csv inner carriage return kept", values: []string{"a=b\r,c=d"}, want: map[string]string{"a": "b\r", "c": "d"}},
		{name: "csv quoted newline", values: []string{"\"a=b\nc\",d=e"}, want: map[string]string{"a": "b\nc", "d": "e"}},
		{name: "newline kept with one =", values: []string{"a=b\n"}, want: map[string]string{"a": "b\n"}},
		{name: "occurrences add up", values: []string{"a=b", "c=d,e=f"}, want: map[string]string{"a": "b", "c": "d", "e": "f"}},
		{name: "later occurrence overwrites", values: []string{"a=b", "a=c"}, want: map[string]string{"a": "c"}},
		{name: "one bad occurrence fails all", values: []string{"a=b", "c"}},
		{name: "sentinel occurrence", values: []string{"a=b", "="}, want: map[string]string{"a": "b"}},
		{name: "no occurrences", values: nil, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAgainstPflag(t, tt.values...)
			got, err := DecodeFlag(tt.values...)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("DecodeFlag(%q) = %q, want an error", tt.values, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeFlag(%q) error: %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeFlag(%q) (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

// TestDecodeFlagMatchesPflag runs every pair of a set of awkward fragments,
// alone and as two occurrences, through both decoders.
func TestDecodeFlagMatchesPflag(t *testing.T) {
	frags := []string{
		"", "=", ",", `"`, "a", "a=b", "=b", "a=", " a = b ", `"a=b"`, `""`, "\n", "\r", "\r\n",
		"a=b,", ",a=b", `"a=b,c"`, `a="b"`, `x"y`, "a=b=c", "é=ü", "\xff=\xfe",
	}
	for _, x := range frags {
		for _, y := range frags {
			for _, sep := range []string{"", ",", "\n"} {
				v := x + sep + y
				checkAgainstPflag(t, v)
				checkAgainstPflag(t, x, v)
			}
		}
	}
}

func TestDecodeFlagErrorsNameThePiece(t *testing.T) {
	tests := []struct {
		values []string
		want   []string // substrings of the error
	}{
		{[]string{""}, []string{`""`, "empty"}},
		{[]string{"quay.io"}, []string{`"quay.io"`, `no "="`}},
		{[]string{"a=b,quay.io,c=d"}, []string{`"a=b,quay.io,c=d"`, `field 2 "quay.io"`}},
		{[]string{"a=b,c=d,"}, []string{`field 3 ""`}},
		{[]string{`a=b",c=d`}, []string{"CSV", "bare"}},
		{[]string{"a=b\nc=d,e=f"}, []string{"more than one CSV record"}},
		{[]string{"a=b", "c=d", "e"}, []string{"occurrence 3 of 3", `"e"`}},
	}
	for _, tt := range tests {
		_, err := DecodeFlag(tt.values...)
		if err == nil {
			t.Errorf("DecodeFlag(%q) succeeded, want an error", tt.values)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("DecodeFlag(%q) error = %q, want it to contain %q", tt.values, err, w)
			}
		}
	}
}

func TestEncodeFlag(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want string
	}{
		{"nil", nil, "="},
		{"empty", map[string]string{}, "="},
		{"one", map[string]string{"quay.io": "m.example.com"}, "quay.io=m.example.com"},
		{"sorted", map[string]string{"r.io": "x", "quay.io/b": "y", "quay.io": "z"}, "quay.io=z,quay.io/b=y,r.io=x"},
		{"value with =", map[string]string{"a": "b=c"}, "a=b=c"},
		{"empty key", map[string]string{"": "b"}, "=b"},
		{"empty value", map[string]string{"a": ""}, "a="},
		{"spaces kept", map[string]string{" a ": " b "}, " a = b "},
		{"single pair: key ends with quote", map[string]string{`a"`: "b"}, `a"=b`},
		{"single pair: value starts with quote", map[string]string{"a": `"b`}, `a="b`},
		{"single pair: newline", map[string]string{"a": "b\n"}, "a=b\n"},
		{"two pairs", map[string]string{"c": "d", "a": "b"}, "a=b,c=d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeFlag(tt.in)
			if err != nil {
				t.Fatalf("EncodeFlag(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("EncodeFlag(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkFlagRoundTrip(t, tt.in)
		})
	}
}

func TestEncodeFlagRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want []string // substrings of the error, at least the key
	}{
		{"= in key", map[string]string{"a=b": "c"}, []string{`key "a=b"`, `"="`}},
		{"comma in key", map[string]string{"a,b": "c"}, []string{`key "a,b"`, "comma"}},
		{"comma in value", map[string]string{"a": "b,c"}, []string{`key "a"`, `"b,c"`}},
		{"sentinel", map[string]string{"": ""}, []string{`key ""`, "no overrides"}},
		{"sentinel among pairs", map[string]string{"": "", "a": "b"}, []string{`key ""`}},
		{"single pair: key starts with quote", map[string]string{`"a`: "b"}, []string{`key "\"a"`, "trims"}},
		{"single pair: value ends with quote", map[string]string{"a": `b"`}, []string{`key "a"`, "trims"}},
		{"csv: quote in value", map[string]string{"a": `x"y`, "c": "d"}, []string{`key "a"`, "double quote"}},
		{"csv: quote in key", map[string]string{`a"`: "b", "c": "d"}, []string{`key "a\""`, "double quote"}},
		{"csv: quote in value with =", map[string]string{"a": `"b=c`}, []string{`key "a"`, "double quote"}},
		{"csv: newline", map[string]string{"a": "b", "c": "d\n"}, []string{`key "c"`, "line break"}},
		{"csv: carriage return", map[string]string{"a\r": "b", "c": "d"}, []string{`key "a\r"`, "line break"}},
		{"all reported", map[string]string{"a,": "x", "b": "y,z"}, []string{`key "a,"`, `key "b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeFlag(tt.in)
			if err == nil {
				t.Fatalf("EncodeFlag(%q) = %q, want an error", tt.in, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("EncodeFlag(%q) error = %q, want it to contain %q", tt.in, err, w)
				}
			}
		})
	}
}

// checkFlagRoundTrip checks, for a map EncodeFlag accepts, that our decoder
// and pflag both give it back and that re-encoding gives the same bytes.
func checkFlagRoundTrip(t *testing.T, m map[string]string) {
	t.Helper()
	s, err := EncodeFlag(m)
	if err != nil {
		return
	}
	got, err := DecodeFlag(s)
	if err != nil {
		t.Fatalf("DecodeFlag(EncodeFlag(%q) = %q) error: %v", m, s, err)
	}
	if !maps.Equal(got, m) {
		t.Fatalf("DecodeFlag(EncodeFlag(%q) = %q) = %q", m, s, got)
	}
	oracle, err := pflagDecode(s)
	if err != nil {
		t.Fatalf("pflag rejects EncodeFlag(%q) = %q: %v", m, s, err)
	}
	if len(m) == 0 {
		delete(oracle, "") // "=" is the empty map, decoded by pflag as {"": ""}
	}
	if !maps.Equal(oracle, m) {
		t.Fatalf("pflag decodes EncodeFlag(%q) = %q as %q", m, s, oracle)
	}
	if s2, err := EncodeFlag(got); err != nil || s2 != s {
		t.Fatalf("EncodeFlag(DecodeFlag(%q)) = %q, %v; want the same string", s, s2, err)
	}
}

// TestFlagRoundTrip checks both round-trip properties on random maps built
// from the characters that matter to pflag.
func TestFlagRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "=", ",", `"`, " ", "\n", "\r", "quay.io", "/", "é"}
	word := func() string {
		var b strings.Builder
		for n := r.IntN(4); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	accepted := 0
	for range 20000 {
		m := make(map[string]string)
		for n := r.IntN(4); n > 0; n-- {
			m[word()] = word()
		}
		if _, err := EncodeFlag(m); err == nil {
			accepted++
		}
		checkFlagRoundTrip(t, m)
	}
	if accepted < 1000 {
		t.Errorf("only %d random maps were encodable; the generator tests too little", accepted)
	}
}

func TestFlagIssues(t *testing.T) {
	tests := []struct {
		in    string
		codes []string
		want  []string // substrings, one per issue
	}{
		{"quay.io=m.example.com,r.io=m.example.com/r", nil, nil},
		{"=", nil, nil},
		{"", []string{CodeMalformed}, []string{"empty"}},
		{"a=b,c=d,", []string{CodeMalformed}, []string{`field 3 ""`}},
		{"=,a=b", []string{CodeMalformed}, []string{`field 1 "=": the "no overrides" marker`}},
		{`"="`, []string{CodeMalformed}, []string{"marker"}},
		{"=b", []string{CodeMalformed}, []string{"empty source"}},
		{"a=", []string{CodeMalformed}, []string{`empty replacement for "a"`}},
		{" a = b ", []string{CodeMalformed, CodeMalformed}, []string{`source " a " has leading`, `replacement " b " has leading`}},
		{"a=b c,d=e", []string{CodeMalformed}, []string{`replacement "b c" contains whitespace`}},
		{"a=b,a=c", []string{CodeDuplicate}, []string{`field 2 "a=c": source "a" already given in field 1`}},
	}
	for _, tt := range tests {
		got := FlagIssues(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("FlagIssues(%q) = %q, want %d issues", tt.in, got, len(tt.want))
			continue
		}
		for i, is := range got {
			if is.Code != tt.codes[i] || !strings.Contains(is.Message, tt.want[i]) {
				t.Errorf("FlagIssues(%q)[%d] = %q, want code %s and message containing %q", tt.in, i, is, tt.codes[i], tt.want[i])
			}
		}
	}
}

// TestFlagIssuesCleanOnEncoderOutput: what we write must lint clean when the
// map itself is clean.
func TestFlagIssuesCleanOnEncoderOutput(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"quay.io": "m.example.com"},
		{"quay.io/openshift-release-dev": "m.example.com:5000/ocp", "registry.redhat.io": "m.example.com/rh"},
		{"a": "b=c"},
	} {
		s, err := EncodeFlag(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := FlagIssues(s); len(got) != 0 {
			t.Errorf("FlagIssues(EncodeFlag(%q) = %q) = %q, want none", m, s, got)
		}
	}
}

func FuzzDecodeFlag(f *testing.F) {
	for _, s := range []string{"=", "a=b,", "a=b,c=d,", "a=b=c", "a=b,a=c", " a = b ", `"a=b"`, ""} {
		f.Add(s, "a=b")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// The decoder agrees with pflag, for one and for two occurrences.
		checkAgainstPflag(t, a)
		checkAgainstPflag(t, a, b)

		// The encoder's refusals are complete: whatever it accepts comes back
		// intact, also for maps the decoder could never produce.
		checkFlagRoundTrip(t, map[string]string{a: b})
		checkFlagRoundTrip(t, map[string]string{b: a})
		checkFlagRoundTrip(t, map[string]string{a: b, b: a})
		checkFlagRoundTrip(t, map[string]string{a: b, "quay.io": a})

		issues := FlagIssues(a)
		m, err := DecodeFlag(a)
		if err != nil {
			if len(issues) != 1 || issues[0].Code != CodeMalformed {
				t.Errorf("DecodeFlag(%q) fails but FlagIssues = %q, want one %s", a, issues, CodeMalformed)
			}
			return
		}
		// Whatever decodes and encodes, round-trips.
		checkFlagRoundTrip(t, m)
	})
}
