package overrides_test

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

func ExampleDecodeFlag() {
	// A single "=" means one pair, commas and all; two or more mean CSV.
	for _, v := range []string{"quay.io=m.example.com,r.io=m.example.com/r", "a=b,", "a=b,c=d,", "="} {
		m, err := overrides.DecodeFlag(v)
		fmt.Printf("%-45q %q %v\n", v, m, err)
	}
	// Output:
	// "quay.io=m.example.com,r.io=m.example.com/r"  map["quay.io":"m.example.com" "r.io":"m.example.com/r"] <nil>
	// "a=b,"                                        map["a":"b,"] <nil>
	// "a=b,c=d,"                                    map[] registry overrides "a=b,c=d,": field 3 "": no "=" (want source=replacement)
	// "="                                           map[] <nil>
}

func ExampleDecodeFlag_repeated() {
	// Repeated occurrences of the flag add to one map; the last value wins.
	m, err := overrides.DecodeFlag("quay.io=old.example.com", "quay.io=new.example.com,r.io=m.example.com")
	fmt.Println(m, err)
	// Output:
	// map[quay.io:new.example.com r.io:m.example.com] <nil>
}

func ExampleEncodeFlag() {
	s, err := overrides.EncodeFlag(map[string]string{
		"registry.redhat.io": "mirror.example.com/rh",
		"quay.io":            "mirror.example.com/quay",
	})
	fmt.Println(s, err)

	// A comma in a value would split the pair once HyperShift copies it into
	// OPENSHIFT_IMG_OVERRIDES, so it is refused.
	_, err = overrides.EncodeFlag(map[string]string{"quay.io": "a.example.com,b.example.com"})
	fmt.Println(err)
	// Output:
	// quay.io=mirror.example.com/quay,registry.redhat.io=mirror.example.com/rh <nil>
	// encoding registry overrides: key "quay.io": value "a.example.com,b.example.com" contains a comma, which separates pairs
}

func ExampleFlagIssues() {
	for _, is := range overrides.FlagIssues("quay.io=m1.example.com,quay.io=m2.example.com,r.io =") {
		fmt.Println(is)
	}
	// Output:
	// HCM015: field 2 "quay.io=m2.example.com": source "quay.io" already given in field 1; only the last replacement is kept
	// HCM025: field 3 "r.io =": empty replacement for "r.io "
	// HCM025: field 3 "r.io =": source "r.io " has leading or trailing whitespace, which is not trimmed
}

func ExampleDecodeEnv() {
	// A repeated source lists more mirrors, in try order; bad pieces vanish.
	e := overrides.DecodeEnv("quay.io=m1.example.com,r.io=m2.example.com,quay.io,quay.io=m0.example.com,")
	for _, src := range e.Sources() {
		fmt.Println(src, e[src])
	}
	// Output:
	// quay.io [m1.example.com m0.example.com]
	// r.io [m2.example.com]
}

func ExampleEncodeEnv() {
	s, err := overrides.EncodeEnv(overrides.Env{
		"registry.redhat.io": {"mirror.example.com/rh"},
		// Try order is kept (HyperShift's writer would sort m1 first);
		// the duplicate is dropped.
		"quay.io/x": {"m2.example.com", "m1.example.com", "m2.example.com"},
	})
	fmt.Println(s, err)
	// Output:
	// quay.io/x=m2.example.com,quay.io/x=m1.example.com,registry.redhat.io=mirror.example.com/rh <nil>
}

func ExampleEnvIssues() {
	for _, is := range overrides.EnvIssues("quay.io=m1.example.com,quay.io,,quay.io=m1.example.com,r.io=") {
		fmt.Println(is)
	}
	// Output:
	// HCM025: piece 2 "quay.io": no "="; skipped
	// HCM025: piece 3 "": empty piece (a stray comma); skipped
	// HCM015: piece 4 "quay.io=m1.example.com": mirror "m1.example.com" for "quay.io" already given in piece 1; it will be tried twice
	// HCM025: piece 5 "r.io=": empty mirror for "r.io"; skipped
}

func ExampleEnv_Sources() {
	e := overrides.Env{"r.io": {"m"}, "quay.io": {"m"}}
	fmt.Println(e.Sources())
	// Output:
	// [quay.io r.io]
}
