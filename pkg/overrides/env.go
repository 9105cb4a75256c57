package overrides

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Env is the content of OPENSHIFT_IMG_OVERRIDES: for each source, its mirrors
// in the order they are to be tried. It is a plain map because that is what
// HyperShift's components hold after reading the variable, so literals and
// lookups read naturally; the order that matters lives in each slice, and
// sources are independent of one another, so the map needs none.
type Env map[string][]string

// Sources returns the sources in byte order, the order [EncodeEnv] writes
// them in, so callers that print an Env print it the same way every time.
func (e Env) Sources() []string {
	out := make([]string, 0, len(e))
	for s := range e {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// DecodeEnv reads OPENSHIFT_IMG_OVERRIDES exactly as HyperShift's components
// do, so that we know which mirrors they will try, and in what order. It never
// fails, because the reader never does: pieces without "=", or with an empty
// source or mirror, are skipped, and [EnvIssues] is the way to hear about
// them. A repeated source appends its mirror, keeping the order and any
// duplicates. Nothing is trimmed or unescaped. The result is never nil.
func DecodeEnv(s string) Env {
	e := make(Env)
	for _, piece := range strings.Split(s, ",") {
		src, mirror, ok := strings.Cut(piece, "=")
		if !ok || src == "" || mirror == "" {
			continue
		}
		e[src] = append(e[src], mirror)
	}
	return e
}

// EnvIssues lints an OPENSHIFT_IMG_OVERRIDES value, reporting what the
// reader would silently drop or waste: skipped pieces, whitespace in a source
// or mirror (never trimmed, so it matches or pulls nothing), and mirrors
// repeated for the same source (probed twice).
//
// Not reported, because the reader handles them as meant: the empty string
// and "=" (no overrides), a "=" piece (the empty --registry-overrides marker,
// which HyperShift's control-plane-operator copies in) and a single trailing
// comma.
func EnvIssues(s string) []Issue {
	if s == "" {
		return nil
	}
	var issues []Issue
	add := func(code string, i int, piece, format string, args ...any) {
		issues = append(issues, Issue{
			Code:    code,
			Message: fmt.Sprintf("piece %d %q: ", i+1, piece) + fmt.Sprintf(format, args...),
		})
	}
	type entry struct{ source, mirror string }
	firstSeen := make(map[entry]int)
	pieces := strings.Split(s, ",")
	for i, piece := range pieces {
		src, mirror, ok := strings.Cut(piece, "=")
		switch {
		case piece == "=":
			continue
		case piece == "":
			if i == len(pieces)-1 {
				continue
			}
			add(CodeMalformed, i, piece, "empty piece (a stray comma); skipped")
			continue
		case !ok:
			add(CodeMalformed, i, piece, `no "="; skipped`)
			continue
		case src == "":
			add(CodeMalformed, i, piece, "empty source; skipped")
			continue
		case mirror == "":
			add(CodeMalformed, i, piece, "empty mirror for %q; skipped", src)
			continue
		}
		if msg := whitespaceProblem(src); msg != "" {
			add(CodeMalformed, i, piece, "source %q %s", src, msg)
		}
		if msg := whitespaceProblem(mirror); msg != "" {
			add(CodeMalformed, i, piece, "mirror %q %s", mirror, msg)
		}
		key := entry{src, mirror}
		if j, ok := firstSeen[key]; ok {
			add(CodeDuplicate, i, piece, "mirror %q for %q already given in piece %d; it will be tried twice", mirror, src, j+1)
		} else {
			firstSeen[key] = i
		}
	}
	return issues
}

// EncodeEnv writes e as an OPENSHIFT_IMG_OVERRIDES value that HyperShift's
// reader decodes to the same mirrors in the same order, which its own writer
// does not guarantee (it sorts mirrors). Sources come in byte order and each
// source's mirrors in the order given, with later duplicates dropped, so the
// same Env always gives the same bytes. A source without mirrors contributes
// nothing, and an Env with no mirrors at all is written as "=".
//
// It refuses, naming every offender, what the reader cannot get back: an
// empty source or mirror, a source containing "," or "=", and a mirror
// containing ",". There is no escaping in this format; only unvalidated
// ImageContentSourcePolicy objects can hold such strings.
func EncodeEnv(e Env) (string, error) {
	var errs []error
	var pieces []string
	for _, src := range e.Sources() {
		mirrors := e[src]
		switch {
		case src == "":
			errs = append(errs, errors.New(`source "": empty, so the reader would skip its mirrors`))
			continue
		case strings.ContainsAny(src, ",="):
			errs = append(errs, fmt.Errorf(`source %q: contains "," or "=", which the format cannot escape`, src))
			continue
		}
		seen := make(map[string]bool, len(mirrors))
		for i, m := range mirrors {
			switch {
			case m == "":
				errs = append(errs, fmt.Errorf("source %q: mirror %d: empty, so the reader would skip it", src, i+1))
				continue
			case strings.Contains(m, ","):
				errs = append(errs, fmt.Errorf(`source %q: mirror %d %q: contains ",", which the format cannot escape`, src, i+1, m))
				continue
			case seen[m]:
				continue
			}
			seen[m] = true
			pieces = append(pieces, src+"="+m)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("encoding image overrides: %w", err)
	}
	if len(pieces) == 0 {
		return "=", nil
	}
	return strings.Join(pieces, ","), nil
}
