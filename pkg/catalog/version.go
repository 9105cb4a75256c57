package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// version is a semantic version (semver.org 2.0.0). Build metadata is
// dropped: it does not take part in ordering.
type version struct {
	major, minor, patch uint64
	pre                 []string
}

// parseVersion reads a semantic version. As the filters of oc-mirror accept
// them, a leading "v" is allowed and missing minor or patch numbers read as
// 0 ("4.16" is 4.16.0); anything else must be strict semver.
func parseVersion(s string) (version, error) {
	var v version
	in := s
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if err := checkIdents(s[i+1:], false); err != nil {
			return v, fmt.Errorf("version %q: build metadata: %w", in, err)
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		if err := checkIdents(s[i+1:], true); err != nil {
			return v, fmt.Errorf("version %q: pre-release: %w", in, err)
		}
		v.pre = strings.Split(s[i+1:], ".")
		s = s[:i]
	}
	nums := strings.Split(s, ".")
	if len(nums) > 3 || s == "" {
		return v, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", in)
	}
	dst := []*uint64{&v.major, &v.minor, &v.patch}
	for i, n := range nums {
		if !isNumeric(n) || (len(n) > 1 && n[0] == '0') {
			return v, fmt.Errorf("version %q: %q is not a number without leading zeros", in, n)
		}
		x, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return v, fmt.Errorf("version %q: %w", in, err)
		}
		*dst[i] = x
	}
	return v, nil
}

func checkIdents(s string, pre bool) error {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return errors.New("empty identifier")
		}
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return fmt.Errorf("identifier %q has character %q", id, c)
			}
		}
		if pre && isNumeric(id) && len(id) > 1 && id[0] == '0' {
			return fmt.Errorf("numeric identifier %q has a leading zero", id)
		}
	}
	return nil
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compare orders versions by semver precedence: numbers, then a version
// with a pre-release before the same one without, pre-release identifiers
// left to right (numeric ones numerically and before alphanumeric ones).
func (v version) compare(w version) int {
	if c := cmp.Compare(v.major, w.major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.minor, w.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.patch, w.patch); c != 0 {
		return c
	}
	switch {
	case len(v.pre) == 0 && len(w.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(w.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(w.pre); i++ {
		a, b := v.pre[i], w.pre[i]
		an, bn := isNumeric(a), isNumeric(b)
		switch {
		case an && bn:
			if c := cmp.Compare(len(a), len(b)); c != 0 {
				return c
			}
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		case an:
			return -1
		case bn:
			return 1
		default:
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(v.pre), len(w.pre))
}

// versionRange is an inclusive range; a nil bound is open.
type versionRange struct {
	min, max *version
	text     string // as the user wrote it, for errors
}

func newRange(minV, maxV string) (*versionRange, error) {
	if minV == "" && maxV == "" {
		return nil, nil
	}
	r := &versionRange{}
	var parts []string
	if minV != "" {
		v, err := parseVersion(minV)
		if err != nil {
			return nil, fmt.Errorf("minVersion: %w", err)
		}
		r.min = &v
		parts = append(parts, ">="+minV)
	}
	if maxV != "" {
		v, err := parseVersion(maxV)
		if err != nil {
			return nil, fmt.Errorf("maxVersion: %w", err)
		}
		r.max = &v
		parts = append(parts, "<="+maxV)
	}
	if r.min != nil && r.max != nil && r.min.compare(*r.max) > 0 {
		return nil, fmt.Errorf("minVersion %s is above maxVersion %s", minV, maxV)
	}
	r.text = strings.Join(parts, " ")
	return r, nil
}

func (r *versionRange) contains(v *version) bool {
	if v == nil {
		return false
	}
	if r.min != nil && v.compare(*r.min) < 0 {
		return false
	}
	if r.max != nil && v.compare(*r.max) > 0 {
		return false
	}
	return true
}

// pinned reports whether the range names exactly one version.
func (r *versionRange) pinned() bool {
	return r.min != nil && r.max != nil && r.min.compare(*r.max) == 0
}
