package overrides

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
)

// flagField is one key=value field of a --registry-overrides occurrence, as
// pflag sees it after trimming or CSV reading.
type flagField struct {
	raw, key, value string
}

// DecodeFlag decodes --registry-overrides the way HyperShift's pflag
// string-to-string flag does, so that we see exactly the overrides a hosted
// control plane component sees, including the surprising cases (see the
// package documentation). Each argument is one occurrence of the flag; like
// pflag, later occurrences add to the map and overwrite equal keys.
//
// The one deliberate difference is that the {"": ""} entry, which is how
// HyperShift spells "no overrides", is dropped, so "=" decodes to an empty
// map. Other empty keys or values are kept; [FlagIssues] reports them.
//
// The error quotes the value (and, with several, says which occurrence) and
// the field pflag would reject; on error the map is nil.
func DecodeFlag(values ...string) (map[string]string, error) {
	m, err := decodeFlagRaw(values)
	if err != nil {
		return nil, err
	}
	if v, ok := m[""]; ok && v == "" {
		delete(m, "")
	}
	return m, nil
}

// decodeFlagRaw is DecodeFlag without dropping the sentinel: byte for byte
// what pflag produces, which is what the tests compare against pflag.
func decodeFlagRaw(values []string) (map[string]string, error) {
	m := make(map[string]string)
	for i, v := range values {
		fields, err := parseFlagValue(v)
		if err != nil {
			if len(values) > 1 {
				return nil, fmt.Errorf("occurrence %d of %d: %w", i+1, len(values), err)
			}
			return nil, err
		}
		for _, f := range fields {
			m[f.key] = f.value
		}
	}
	return m, nil
}

// parseFlagValue splits one occurrence into its fields, in order, failing
// exactly where pflag fails.
func parseFlagValue(v string) ([]flagField, error) {
	var raws []string
	switch strings.Count(v, "=") {
	case 0:
		if v == "" {
			return nil, errors.New(`registry overrides "": empty (want source=replacement pairs, or "=" for none)`)
		}
		return nil, fmt.Errorf("registry overrides %q: no \"=\" (want source=replacement pairs)", v)
	case 1:
		// pflag trims every leading and trailing quote and does not split on
		// commas when there is a single "=".
		raws = []string{strings.Trim(v, `"`)}
	default:
		r := csv.NewReader(strings.NewReader(v))
		fields, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("registry overrides %q: reading as a CSV record: %w", v, err)
		}
		if _, err := r.Read(); err != io.EOF {
			return nil, fmt.Errorf("registry overrides %q: more than one CSV record (a line break outside quotes)", v)
		}
		raws = fields
	}
	out := make([]flagField, 0, len(raws))
	for i, raw := range raws {
		k, val, ok := strings.Cut(raw, "=")
		if !ok {
			return nil, fmt.Errorf("registry overrides %q: field %d %q: no \"=\" (want source=replacement)", v, i+1, raw)
		}
		out = append(out, flagField{raw: raw, key: k, value: val})
	}
	return out, nil
}

// EncodeFlag writes m as a --registry-overrides value that HyperShift's reader
// decodes back to exactly m: pairs sorted by key so that equal maps give equal
// bytes, joined by ",", and "=" for an empty map.
//
// It refuses what would not come back intact, naming every offending key:
// a key containing "=" or ",", a value containing "," (HyperShift copies the
// pairs into OPENSHIFT_IMG_OVERRIDES, where a comma splits pieces), and the
// {"": ""} entry, which [DecodeFlag] drops. A single pair whose value has no
// "=" is only quote-trimmed by pflag, so there a key may not start and a value
// may not end with a double quote. Anything else is read as CSV, so there no
// key or value may contain a double quote or a line break.
func EncodeFlag(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "=", nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	// pflag reads the value as CSV unless it holds exactly one "=". Keys never
	// contain "=" (refused below), so that is one pair with no "=" in its value.
	asCSV := len(keys) > 1 || strings.Contains(m[keys[0]], "=")

	var errs []error
	refuse := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("key %q: "+format, append([]any{k}, args...)...))
	}
	for _, k := range keys {
		v := m[k]
		if k == "" && v == "" {
			refuse(k, `empty key with empty value is the "no overrides" marker and would decode to nothing`)
			continue
		}
		if strings.Contains(k, "=") {
			refuse(k, `contains "=", so the reader would split the key there`)
		}
		if strings.Contains(k, ",") {
			refuse(k, "contains a comma, which separates pairs")
		}
		if strings.Contains(v, ",") {
			refuse(k, "value %q contains a comma, which separates pairs", v)
		}
		if asCSV {
			if strings.Contains(k, `"`) {
				refuse(k, "contains a double quote, which the CSV reader treats as quoting")
			}
			if strings.Contains(v, `"`) {
				refuse(k, "value %q contains a double quote, which the CSV reader treats as quoting", v)
			}
			if strings.ContainsAny(k, "\r\n") {
				refuse(k, "contains a line break, which the CSV reader treats as a record end")
			}
			if strings.ContainsAny(v, "\r\n") {
				refuse(k, "value %q contains a line break, which the CSV reader treats as a record end", v)
			}
		} else {
			if strings.HasPrefix(k, `"`) {
				refuse(k, "starts with a double quote, which the reader trims")
			}
			if strings.HasSuffix(v, `"`) {
				refuse(k, "value %q ends with a double quote, which the reader trims", v)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("encoding registry overrides: %w", err)
	}

	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	return b.String(), nil
}

// FlagIssues lints one --registry-overrides value before it reaches
// HyperShift, reporting what its reader rejects or quietly gets wrong: a
// value pflag refuses (one issue, with the reason), whitespace in a key or
// value (never trimmed, so the source matches nothing), empty keys or values,
// the {"": ""} marker mixed in among real pairs, and keys given twice (only
// the last value survives).
//
// "=" on its own is how HyperShift and [EncodeFlag] spell "no overrides", so
// it is not reported.
func FlagIssues(s string) []Issue {
	fields, err := parseFlagValue(s)
	if err != nil {
		return []Issue{{Code: CodeMalformed, Message: err.Error()}}
	}
	if s == "=" {
		return nil
	}
	var issues []Issue
	add := func(code string, i int, f flagField, format string, args ...any) {
		issues = append(issues, Issue{
			Code:    code,
			Message: fmt.Sprintf("field %d %q: ", i+1, f.raw) + fmt.Sprintf(format, args...),
		})
	}
	firstSeen := make(map[string]int)
	for i, f := range fields {
		switch {
		case f.key == "" && f.value == "":
			add(CodeMalformed, i, f, `the "no overrides" marker among real pairs decodes to an entry with an empty source and replacement`)
		case f.key == "":
			add(CodeMalformed, i, f, "empty source")
		case f.value == "":
			add(CodeMalformed, i, f, "empty replacement for %q", f.key)
		}
		if msg := whitespaceProblem(f.key); msg != "" {
			add(CodeMalformed, i, f, "source %q %s", f.key, msg)
		}
		if msg := whitespaceProblem(f.value); msg != "" {
			add(CodeMalformed, i, f, "replacement %q %s", f.value, msg)
		}
		if j, ok := firstSeen[f.key]; ok {
			add(CodeDuplicate, i, f, "source %q already given in field %d; only the last replacement is kept", f.key, j+1)
		} else {
			firstSeen[f.key] = i
		}
	}
	return issues
}

// whitespaceProblem describes whitespace in s, or returns "" if there is none.
// Neither reader trims, and image references never contain whitespace, so any
// whitespace makes an entry dead.
func whitespaceProblem(s string) string {
	switch {
	case strings.TrimFunc(s, unicode.IsSpace) != s:
		return "has leading or trailing whitespace, which is not trimmed"
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "contains whitespace"
	}
	return ""
}
