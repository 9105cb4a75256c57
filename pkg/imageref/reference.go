package imageref

import (
	"errors"
	"fmt"
	"strings"
)

// Docker Hub's names, folded the way every container runtime folds them.
const (
	// DefaultDomain is the domain of a reference that names none.
	DefaultDomain = "docker.io"
	// legacyDefaultDomain is an alias runtimes rewrite to DefaultDomain.
	legacyDefaultDomain = "index.docker.io"
	// officialRepoName is the namespace of one-component Docker Hub names.
	officialRepoName = "library"
	// NameTotalLengthMax is the longest normalised name runtimes accept.
	NameTotalLengthMax = 255
)

// Sentinel errors a caller may branch on; every returned error wraps one of
// them inside an *Error that also carries the input.
var (
	ErrEmpty          = errors.New("empty reference")
	ErrInvalidFormat  = errors.New("invalid reference format")
	ErrUppercase      = errors.New("repository name must be lowercase")
	ErrNameTooLong    = fmt.Errorf("repository name must not be more than %d characters", NameTotalLengthMax)
	ErrDigest         = errors.New("invalid digest")
	ErrIdentifierOnly = errors.New("a 64-character hexadecimal string is an image ID, not a repository name")
	ErrNotCanonical   = errors.New("reference is not in canonical form")
)

// Error is the one error type of this package: the input that failed and why.
type Error struct {
	Input string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("parsing reference %q: %v", e.Input, e.Err) }

// Unwrap gives access to the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Reference is a parsed, normalised image reference. The zero value is not a
// valid reference; get one from Parse or ParseCanonical.
type Reference struct {
	name      string // domain/path, normalised; domain may be empty (see Domain)
	domainLen int    // len of the domain inside name, 0 when empty
	tag       string
	digest    string
}

// Name is the normalised repository name without tag or digest: the key
// container runtimes match mirror-set sources against.
func (r Reference) Name() string { return r.name }

// Domain is the registry host[:port]. It is empty only for the odd names whose
// first component is neither a valid host nor absent (e.g. "a_b.com/x"), which
// the runtime grammar accepts as a pure path.
func (r Reference) Domain() string { return r.name[:r.domainLen] }

// Path is the repository path inside the registry.
func (r Reference) Path() string {
	if r.domainLen == 0 {
		return r.name
	}
	return r.name[r.domainLen+1:]
}

// Tag is the tag, empty when none was given.
func (r Reference) Tag() string { return r.tag }

// Digest is "algorithm:hex", empty when none was given.
func (r Reference) Digest() string { return r.digest }

// IsDigested reports whether a pull of this reference is a digest pull. A
// reference with both a tag and a digest is a digest pull; the tag is ignored.
func (r Reference) IsDigested() bool { return r.digest != "" }

// String is the full normalised form, the string runtimes rewrite when they
// substitute a mirror for a matched prefix. Name-only references stay
// name-only (no ":latest" is added), as the runtimes print them.
func (r Reference) String() string {
	n := len(r.name)
	if r.tag != "" {
		n += 1 + len(r.tag)
	}
	if r.digest != "" {
		n += 1 + len(r.digest)
	}
	if n == len(r.name) {
		return r.name
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(r.name)
	if r.tag != "" {
		b.WriteByte(':')
		b.WriteString(r.tag)
	}
	if r.digest != "" {
		b.WriteByte('@')
		b.WriteString(r.digest)
	}
	return b.String()
}

// WithoutTag drops the tag of a reference that also has a digest, because a
// tag beside a digest only misleads readers: the digest is what gets pulled.
func (r Reference) WithoutTag() Reference {
	if r.digest != "" {
		r.tag = ""
	}
	return r
}

// Parse parses s the way a container runtime parses a user-given image name:
// a missing domain becomes docker.io, index.docker.io becomes docker.io, a
// one-component Docker Hub path gets "library/".
func Parse(s string) (Reference, error) {
	r, err := parse(s)
	if err != nil {
		return Reference{}, &Error{Input: s, Err: err}
	}
	return r, nil
}

// ParseCanonical parses s and requires it to be already normalised, as the
// runtime requires of every mirror-rewritten candidate: "registry/ns/img"
// would mean "docker.io/registry/ns/img", so it is rejected. That is why a
// single-label mirror host breaks every pull that goes through it.
func ParseCanonical(s string) (Reference, error) {
	r, err := parse(s)
	if err != nil {
		return Reference{}, &Error{Input: s, Err: err}
	}
	if !r.equalsString(s) {
		return Reference{}, &Error{Input: s, Err: ErrNotCanonical}
	}
	return r, nil
}

// equalsString is String() == s without building the string.
func (r Reference) equalsString(s string) bool {
	if !strings.HasPrefix(s, r.name) {
		return false
	}
	rest := s[len(r.name):]
	if r.tag != "" {
		if len(rest) < 1+len(r.tag) || rest[0] != ':' || rest[1:1+len(r.tag)] != r.tag {
			return false
		}
		rest = rest[1+len(r.tag):]
	}
	if r.digest != "" {
		return len(rest) == 1+len(r.digest) && rest[0] == '@' && rest[1:] == r.digest
	}
	return rest == ""
}

func parse(s string) (Reference, error) {
	if s == "" {
		return Reference{}, ErrEmpty
	}
	if isIdentifier(s) {
		return Reference{}, ErrIdentifierOnly
	}
	domain, remainder := splitDockerDomain(s)
	remoteName := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		remoteName = remainder[:i]
	}
	if hasUpper(remoteName) {
		return Reference{}, ErrUppercase
	}
	return parseFull(domain + "/" + remainder)
}

// ParseRaw parses s with the reference grammar alone: no Docker Hub
// folding, no "library/", so "busybox" has no domain and "a/b" has domain
// "a". Runtimes parse short-name aliases this way; image names people pull
// go through Parse.
func ParseRaw(s string) (Reference, error) {
	if s == "" {
		return Reference{}, &Error{Input: s, Err: ErrEmpty}
	}
	r, err := parseFull(s)
	if err != nil {
		return Reference{}, &Error{Input: s, Err: err}
	}
	return r, nil
}

// ValidDomain reports whether s is a registry host[:port] as the reference
// grammar defines it (labels of letters, digits and inner '-', an optional
// numeric port).
func ValidDomain(s string) bool { return validDomain(s) }

// splitDockerDomain decides whether the first component is a registry host: only
// when it holds "." or ":" or is "localhost". Anything else is a Docker Hub path.
func splitDockerDomain(name string) (domain, remainder string) {
	i := strings.IndexByte(name, '/')
	if i == -1 || (!strings.ContainsAny(name[:i], ".:") && name[:i] != "localhost") {
		domain, remainder = DefaultDomain, name
	} else {
		domain, remainder = name[:i], name[i+1:]
	}
	if domain == legacyDefaultDomain {
		domain = DefaultDomain
	}
	if domain == DefaultDomain && strings.IndexByte(remainder, '/') < 0 {
		remainder = officialRepoName + "/" + remainder
	}
	return domain, remainder
}

// parseFull parses s against the reference grammar name[:tag][@digest].
func parseFull(s string) (Reference, error) {
	rest := s
	var dgst string
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		dgst = rest[at+1:]
		rest = rest[:at]
		if !validDigestGrammar(dgst) {
			return Reference{}, ErrInvalidFormat
		}
	}
	var tag string
	if c := strings.LastIndexByte(rest, ':'); c >= 0 && strings.IndexByte(rest[c+1:], '/') < 0 {
		tag = rest[c+1:]
		rest = rest[:c]
		if !validTag(tag) {
			return Reference{}, ErrInvalidFormat
		}
	}
	name := rest
	// The grammar's optional domain is tried first: the first component is a
	// domain if it is a valid host and the rest is a valid path; otherwise the
	// whole name must be a path (empty domain).
	domainLen := 0
	slash := strings.IndexByte(name, '/')
	switch {
	case slash > 0 && validDomain(name[:slash]) && validPath(name[slash+1:]):
		domainLen = slash
	case validPath(name):
	default:
		return Reference{}, ErrInvalidFormat
	}
	if len(name) > NameTotalLengthMax {
		return Reference{}, ErrNameTooLong
	}
	if dgst != "" {
		if err := validateDigest(dgst); err != nil {
			return Reference{}, err
		}
	}
	return Reference{name: name, domainLen: domainLen, tag: tag, digest: dgst}, nil
}

func isIdentifier(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerHex(c byte) bool   { return isDigit(c) || ('a' <= c && c <= 'f') }
func isWord(c byte) bool       { return isAlnum(c) || c == '_' }
func isXDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// validDomain: labels of [A-Za-z0-9] with inner '-', joined by '.', then an
// optional ":digits" port.
func validDomain(s string) bool {
	host := s
	if c := strings.IndexByte(s, ':'); c >= 0 {
		host = s[:c]
		port := s[c+1:]
		if port == "" {
			return false
		}
		for i := 0; i < len(port); i++ {
			if !isDigit(port[i]) {
				return false
			}
		}
	}
	if host == "" {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if l == "" || !isAlnum(l[0]) || !isAlnum(l[len(l)-1]) {
		return false
	}
	for i := 1; i < len(l)-1; i++ {
		if !isAlnum(l[i]) && l[i] != '-' {
			return false
		}
	}
	return true
}

// validPath: one or more path components joined by '/'.
func validPath(s string) bool {
	if s == "" {
		return false
	}
	for {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return ValidPathComponent(s)
		}
		if !ValidPathComponent(s[:i]) {
			return false
		}
		s = s[i+1:]
	}
}

// ValidPathComponent reports whether s is one repository path component:
// lowercase alphanumeric runs joined by exactly one '.', one '_', "__", or any
// run of '-'.
func ValidPathComponent(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); {
		c := s[i]
		if isLowerAlnum(c) {
			i++
			continue
		}
		// A separator run, which must be followed by an alphanumeric.
		j := i
		switch c {
		case '.':
			j++
		case '_':
			j++
			if j < len(s) && s[j] == '_' {
				j++
			}
		case '-':
			for j < len(s) && s[j] == '-' {
				j++
			}
		default:
			return false
		}
		if j >= len(s) || !isLowerAlnum(s[j]) {
			return false
		}
		i = j
	}
	return true
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || !isWord(t[0]) {
		return false
	}
	for i := 1; i < len(t); i++ {
		if !isWord(t[i]) && t[i] != '.' && t[i] != '-' {
			return false
		}
	}
	return true
}

// validDigestGrammar is the reference grammar's digest shape:
// algorithm components joined by [-_+.], ':', at least 32 hex digits.
func validDigestGrammar(d string) bool {
	c := strings.IndexByte(d, ':')
	if c <= 0 {
		return false
	}
	alg, hex := d[:c], d[c+1:]
	if len(hex) < 32 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if !isXDigit(hex[i]) {
			return false
		}
	}
	// [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*
	expectLetter := true
	for i := 0; i < len(alg); i++ {
		ch := alg[i]
		switch {
		case expectLetter:
			if !(('a' <= ch && ch <= 'z') || ('A' <= ch && ch <= 'Z')) {
				return false
			}
			expectLetter = false
		case isAlnum(ch):
		case ch == '-' || ch == '_' || ch == '+' || ch == '.':
			expectLetter = true
		default:
			return false
		}
	}
	return !expectLetter
}

// validateDigest applies the digest library's rules on top of the grammar:
// only sha256, sha384 and sha512, lowercase hex of exactly their length.
func validateDigest(d string) error {
	c := strings.IndexByte(d, ':')
	alg, hex := d[:c], d[c+1:]
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha384":
		want = 96
	case "sha512":
		want = 128
	default:
		return fmt.Errorf("%w: unsupported algorithm %q", ErrDigest, alg)
	}
	if len(hex) != want {
		return fmt.Errorf("%w: %s needs %d hexadecimal digits, got %d", ErrDigest, alg, want, len(hex))
	}
	for i := 0; i < len(hex); i++ {
		if !isLowerHex(hex[i]) {
			return fmt.Errorf("%w: %s must be lowercase hexadecimal", ErrDigest, alg)
		}
	}
	return nil
}
