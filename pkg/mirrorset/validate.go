package mirrorset

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
)

// SourcePattern and MirrorPattern are the OpenShift API patterns for
// mirror-set strings. IDMS and ITMS are checked by the API server; ICSP and
// imageContentSources are not, but the machine-config-operator fails to
// render node configuration from a value that breaks them, so we hold every
// kind to them. They are the CRD's own constants, so the two cannot drift.
const (
	MirrorPattern = configv1.MirrorPattern
	SourcePattern = configv1.SourcePattern
)

var (
	mirrorRegexp = regexp.MustCompile(MirrorPattern)
	sourceRegexp = regexp.MustCompile(SourcePattern)
)

// Codes of the findings validation rejects; the linter reports them under the
// same codes (see docs/semantics.md §9).
const (
	CodeBadSource      = "HCM001"
	CodeBadMirror      = "HCM002"
	CodePolicyConflict = "HCM003"
	CodeNCSWithSource  = "HCM004"
	CodeBadPolicy      = "HCM001" // a bad enum value is a malformed entry, like a bad source
	CodeDuplicate      = "HCM015"
)

// FieldError is one rejected value, located precisely enough for a person to
// fix it without reading the rest of the file.
type FieldError struct {
	// Object describes the set: its origin, kind and name.
	Object string
	// Field is the path inside the object, e.g. "spec.imageDigestMirrors[1].mirrors[0]".
	Field string
	// Code is the lint code of the rule (HCM001...).
	Code string
	// Message says what is wrong and what would be right.
	Message string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Object, e.Field, e.Message)
}

// CheckName reports whether name is one the API server accepts for a
// mirror set (a cluster-scoped object): set, and a DNS subdomain of at most
// 253 characters. The error says what is wrong.
func CheckName(name string) error {
	if name == "" {
		return errors.New("the object has no name")
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Errorf("%q is not a valid object name (a DNS subdomain; this one has %d characters): %s", name, len(name), strings.Join(msgs, "; "))
	}
	return nil
}

// IsWildcard reports whether a source is a "*.domain" wildcard.
func IsWildcard(source string) bool { return strings.HasPrefix(source, "*.") }

// ValidSource reports whether s matches SourcePattern.
func ValidSource(s string) bool { return sourceRegexp.MatchString(s) }

// ValidMirror reports whether s matches MirrorPattern.
func ValidMirror(s string) bool { return mirrorRegexp.MatchString(s) }

// Validate checks sets the way the API server and the machine-config-operator
// together would, and returns every problem found (errors.Join of
// *FieldError, in input order), or nil. What they accept we accept, even when
// pulls through it will fail: the linter reports those.
func Validate(sets []Set) error {
	return ValidateContext(context.Background(), sets)
}

// ValidateContext is Validate, giving up once ctx is done: then the error
// wraps ctx.Err() (and the problems found so far are not returned).
func ValidateContext(ctx context.Context, sets []Set) error {
	var errs []error
	n := 0
	add := func(s *Set, field, code, format string, args ...any) {
		errs = append(errs, &FieldError{Object: s.Describe(), Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	for si := range sets {
		s := &sets[si]
		for ei, e := range s.Entries {
			if n++; n%checkEvery == 0 && ctx.Err() != nil {
				return fmt.Errorf("validating mirror sets: %w", ctx.Err())
			}
			path := s.EntryPath(ei)
			if !ValidSource(e.Source) {
				add(s, path+".source", CodeBadSource, "%q is not a valid source: want host[:port][/path] with a lowercase path, or *.domain, without scheme, tag, digest or trailing slash", e.Source)
			}
			seen := make(map[string]bool, len(e.Mirrors))
			for mi, m := range e.Mirrors {
				mpath := fmt.Sprintf("%s.mirrors[%d]", path, mi)
				if !ValidMirror(m) {
					add(s, mpath, CodeBadMirror, "%q is not a valid mirror: want host[:port][/path] with a lowercase path, without scheme, tag, digest, wildcard or trailing slash", m)
				}
				// The API server refuses duplicates in a listType=set; ICSP has no
				// schema, so its duplicates are merely dropped when merging.
				if seen[m] && s.Kind != KindICSP {
					add(s, mpath, CodeDuplicate, "duplicate mirror %q", m)
				}
				seen[m] = true
			}
			switch e.Policy {
			case "", AllowContactingSource, NeverContactSource:
			default:
				add(s, path+".mirrorSourcePolicy", CodeBadPolicy, "unsupported value %q: want %q or %q", e.Policy, AllowContactingSource, NeverContactSource)
			}
			if e.Policy != "" && !s.Kind.HasPolicy() {
				add(s, path+".mirrorSourcePolicy", CodeBadPolicy, "%s has no mirrorSourcePolicy", s.Kind)
			}
			if e.Blocks() && e.HasRealMirrors() && slices.Contains(e.Mirrors, e.Source) {
				add(s, path+".mirrors", CodeNCSWithSource, "mirrorSourcePolicy NeverContactSource but the source %q is among its own mirrors", e.Source)
			}
		}
	}
	errs = append(errs, policyConflicts(sets)...)
	return errors.Join(errs...)
}

// policyConflicts finds sources given different effective policies by
// different entries. The machine-config-operator refuses to render such
// configuration at all, so every entry involved is named.
func policyConflicts(sets []Set) []error {
	type use struct {
		object, field string
		blocks        bool
		kind          Kind
	}
	uses := map[string][]use{}
	var order []string
	for si := range sets {
		s := &sets[si]
		for ei, e := range s.Entries {
			if !e.HasRealMirrors() {
				continue // ignored entirely upstream, its policy too
			}
			if _, ok := uses[e.Source]; !ok {
				order = append(order, e.Source)
			}
			uses[e.Source] = append(uses[e.Source], use{s.Describe(), s.EntryPath(ei), e.Blocks(), s.Kind})
		}
	}
	var errs []error
	for _, src := range order {
		us := uses[src]
		var blocking, allowing []string
		for _, u := range us {
			name := u.object + " " + u.field
			if u.blocks {
				blocking = append(blocking, name)
			} else {
				allowing = append(allowing, name)
			}
		}
		if len(blocking) == 0 || len(allowing) == 0 {
			continue
		}
		sort.Strings(blocking)
		sort.Strings(allowing)
		// ICSP and imageContentSources have no mirrorSourcePolicy field:
		// name the entry itself there.
		field := us[0].field
		if us[0].kind.HasPolicy() {
			field += ".mirrorSourcePolicy"
		}
		errs = append(errs, &FieldError{
			Object:  us[0].object,
			Field:   field,
			Code:    CodePolicyConflict,
			Message: fmt.Sprintf("source %q has conflicting mirrorSourcePolicy: NeverContactSource in [%s], AllowContactingSource (or unset) in [%s]", src, strings.Join(blocking, ", "), strings.Join(allowing, ", ")),
		})
	}
	return errs
}

// HasRealMirrors reports whether an entry has a mirror other than its own
// source. Entries without one are ignored by the machine-config-operator,
// NeverContactSource included, so every consumer must skip them the same way.
func (e Entry) HasRealMirrors() bool {
	for _, m := range e.Mirrors {
		if m != e.Source {
			return true
		}
	}
	return false
}

// checkEvery is how many entries a long loop handles between two looks at
// its context: often enough to stop within milliseconds, rarely enough to
// cost nothing.
const checkEvery = 256
