// Package overrides reads and writes the two strings HyperShift uses to hand
// registry overrides to hosted control plane components. Both are decoded
// exactly as HyperShift's readers decode them, because a component only ever
// sees what its reader makes of the string, and both are encoded so that the
// reader gets back precisely the map we meant.
//
// # --registry-overrides: one replacement per source
//
// The control-plane-operator, the hosted-cluster-config-operator and the
// ignition server read this flag with a spf13/pflag string-to-string flag.
// That reader is not a simple "split on commas" parser; what it does depends on
// how many "=" one occurrence of the flag contains:
//
//   - none: an error, so the empty string is an error too;
//   - exactly one: double quotes at both ends are trimmed and the rest is one
//     pair. Commas are NOT split, so "a=b," means {a: "b,"};
//   - two or more: the value is read as one CSV record. Commas split fields,
//     double quotes are CSV quotes, a stray quote is an error, and an empty
//     field is an error, so the trailing comma in "a=b,c=d," is fatal although
//     the one in "a=b," is not.
//
// Each field then splits at its first "=" ("a=b=c" is {a: "b=c"}), later
// duplicates overwrite earlier ones, repeated occurrences of the flag add to
// one map, and nothing is trimmed: " a = b " has the key " a ", which matches
// no image. "=" decodes to {"": ""}; HyperShift writes it when it has no
// overrides, and [DecodeFlag] drops it so that "no overrides" is an empty map.
//
// # OPENSHIFT_IMG_OVERRIDES: ordered mirrors per source
//
// This environment variable is a list of source=mirror pieces separated by
// commas. A source with several mirrors is written as a repeated key, and the
// order of the pieces is the order in which mirrors are tried. The reader is
// forgiving to a fault: pieces without "=" or with an empty source or mirror
// are skipped without a word, duplicates are kept (and probed twice), and
// nothing is trimmed or unescaped. [EnvIssues] reports what the reader would
// silently ignore.
//
// HyperShift's own writer sorts every source's mirrors alphabetically, in
// place, before writing them, so the priority a mirror set expressed is lost:
// quay.io/x with mirrors m2 then m1 comes out as "quay.io/x=m1,quay.io/x=m2",
// and m1 is tried first. [EncodeEnv] keeps the order it is given.
//
// # Encoding
//
// Both encoders sort by source so that the same input always gives the same
// bytes, and write "=" when there is nothing to say (both readers take it to
// mean "no overrides"). They refuse, rather than silently mangle, anything the
// reader would decode differently: a "," or "=" inside a source, a "," inside
// a replacement or mirror, and for the flag the quotes and line breaks that
// pflag's trimming or CSV reading would eat. Every refusal names the source it
// is about, and all of them are reported at once.
//
// Neither string can say "never contact the source" or "digest pulls only";
// those travel in the mirror-set objects themselves.
package overrides
