package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// Objects named by override-string findings: the flag and the variable as
// they appear in a Deployment.
const (
	flagObject = "--registry-overrides"
	envObject  = "OPENSHIFT_IMG_OVERRIDES"
)

// LintFlag checks a --registry-overrides value, as found on a hosted control
// plane Deployment or about to be written there, even an empty one (which
// its reader rejects): for what HyperShift's reader rejects, drops or
// distorts (HCM025), for duplicates (HCM015), and for sources and
// replacements that break the mirror-set patterns (HCM001, HCM002).
func LintFlag(value string) []Finding {
	out := issueFindings(flagObject, overrides.FlagIssues(value))
	m, err := overrides.DecodeFlag(value)
	if err != nil {
		return out // reported by FlagIssues
	}
	for _, src := range slices.Sorted(maps.Keys(m)) {
		out = append(out, patternFindings(flagObject, src, []string{m[src]})...)
	}
	return out
}

// LintEnv checks an OPENSHIFT_IMG_OVERRIDES value the same way.
func LintEnv(value string) []Finding {
	out := issueFindings(envObject, overrides.EnvIssues(value))
	env := overrides.DecodeEnv(value)
	for _, src := range env.Sources() {
		out = append(out, patternFindings(envObject, src, slices.Compact(slices.Clone(env[src])))...)
	}
	return out
}

// patternFindings holds an override's source and replacements to the
// patterns of mirror-set sources and mirrors: what a mirror set may not say
// (a scheme, a tag or digest, an uppercase path, a trailing comma kept in a
// value), an override string may not either, since consumers build image
// references from it.
//
// Empty values and whitespace are left to the readers' own checks (HCM025),
// which already report them.
func patternFindings(object, src string, mirrors []string) []Finding {
	reported := func(s string) bool { return s == "" || strings.ContainsFunc(s, unicode.IsSpace) }
	var out []Finding
	if !reported(src) && !mirrorset.ValidSource(src) {
		out = append(out, newFinding(mirrorset.CodeBadSource, object, "",
			fmt.Sprintf("source %q is not a valid source: want host[:port][/path] with a lowercase path, or *.domain, without scheme, tag, digest or trailing slash", src)))
	}
	for _, m := range mirrors {
		if !reported(m) && !mirrorset.ValidMirror(m) {
			out = append(out, newFinding(mirrorset.CodeBadMirror, object, "",
				fmt.Sprintf("replacement %q for %q is not a valid mirror: want host[:port][/path] with a lowercase path, without scheme, tag, digest, wildcard, comma or trailing slash; every image rewritten with it is an invalid reference", m, src)))
		}
	}
	return out
}

// CodeOverridesDisagree is the finding for an override string that does not
// say what the mirror sets say.
const CodeOverridesDisagree = "HCM036"

// CompareFlag compares a --registry-overrides value with what the compiled
// mirror sets mean for it (what `hcpmirror overrides --format flag` prints):
// every source of the sets with its first mirror, and no other source.
// A value that does not decode is not compared (LintFlag reports it).
func CompareFlag(cfg *mirrorset.Config, value string) []Finding {
	got, err := overrides.DecodeFlag(value)
	if err != nil {
		return nil
	}
	_, want := overrides.FromConfig(cfg)
	var out []Finding
	add := func(format string, args ...any) {
		out = append(out, newFinding(CodeOverridesDisagree, flagObject, "", fmt.Sprintf(format, args...)))
	}
	for _, src := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[src]; {
		case !ok:
			add("source %q of the mirror sets has no override: components reading this flag pull its images from the source (the sets say %q)", src, want[src])
		case g != want[src]:
			add("source %q is sent to %q, but the mirror sets' first mirror for it is %q", src, g, want[src])
		}
	}
	for _, src := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[src]; !ok {
			add("source %q is not in the mirror sets: components reading this flag send it to %q, node runtimes do not", src, got[src])
		}
	}
	return out
}

// CompareEnv compares an OPENSHIFT_IMG_OVERRIDES value with what the
// compiled mirror sets mean for it (`hcpmirror overrides --format env`):
// every source of the sets with all its mirrors, in try order.
func CompareEnv(cfg *mirrorset.Config, value string) []Finding {
	got := overrides.DecodeEnv(value)
	want, _ := overrides.FromConfig(cfg)
	var out []Finding
	add := func(format string, args ...any) {
		out = append(out, newFinding(CodeOverridesDisagree, envObject, "", fmt.Sprintf(format, args...)))
	}
	for _, src := range want.Sources() {
		g, ok := got[src]
		switch g = slices.Compact(slices.Clone(g)); {
		case !ok:
			add("source %q of the mirror sets has no mirrors here: components reading this variable pull its images from the source (the sets say %s)", src, quoteList(want[src], 5))
		case !slices.Equal(g, want[src]):
			add("source %q has mirrors %s, but the mirror sets try %s", src, quoteList(g, 5), quoteList(want[src], 5))
		}
	}
	for _, src := range got.Sources() {
		if _, ok := want[src]; !ok {
			add("source %q is not in the mirror sets: components reading this variable send it to %s, node runtimes do not", src, quoteList(got[src], 5))
		}
	}
	return out
}

func issueFindings(object string, issues []overrides.Issue) []Finding {
	out := make([]Finding, 0, len(issues))
	for _, is := range issues {
		out = append(out, newFinding(is.Code, object, "", is.Message))
	}
	return out
}
