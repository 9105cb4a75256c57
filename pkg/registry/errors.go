package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Kind is why a registry operation failed, in the terms an operator acts on:
// fix credentials, fix trust, mirror the image, bring the mirror up, wait.
type Kind int

// The failure kinds. Callers branch on them, for example to keep trying the
// next mirror or to set a condition reason.
const (
	// Other is any failure that fits no other kind, including a
	// cancelled context.
	Other Kind = iota
	// Unauthorized: the registry refused the credentials, or none were
	// found for it (HTTP 401 or 403).
	Unauthorized
	// TLS: the certificate was not trusted or the TLS exchange failed,
	// including a plain-HTTP registry that is not listed as insecure.
	TLS
	// NotFound: the repository, manifest or blob does not exist there,
	// or an index has no manifest for the requested platform.
	NotFound
	// Unreachable: no usable connection (refused, reset, DNS failure,
	// timeout).
	Unreachable
	// RateLimited: HTTP 429 persisted through the retries, or the
	// registry asked to wait longer than the client is willing to.
	RateLimited
	// Server: HTTP 5xx persisted through the retries.
	Server
	// DigestMismatch: content fetched by digest did not hash to it. A
	// mirror serving it is broken or lying; the content is discarded.
	DigestMismatch
)

var kindNames = map[Kind]string{
	Other:          "error",
	Unauthorized:   "unauthorized",
	TLS:            "tls",
	NotFound:       "not found",
	Unreachable:    "unreachable",
	RateLimited:    "rate limited",
	Server:         "server error",
	DigestMismatch: "digest mismatch",
}

// String names the kind as error messages show it.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failed operation on one physical reference. Its message names
// the reference and the kind, and never carries credentials, tokens,
// Authorization headers or signed URL parameters, so it can go into logs,
// conditions and events as is.
type Error struct {
	// Reference is the physical reference that was tried, as given
	// (for example "mirror.example.com:5000/ocp/release@sha256:…").
	Reference string
	// Registry is the host[:port] that was contacted.
	Registry string
	// Kind classifies the failure.
	Kind Kind
	// Err is the cause. Its message is already redacted; errors.Is and
	// errors.As still reach the original chain below it.
	Err error

	// explained is set once an Unauthorized cause says whether
	// credentials were missing or rejected, so it is said once.
	explained bool
}

// Error implements error.
func (e *Error) Error() string {
	subject := e.Reference
	if subject == "" {
		subject = e.Registry
	}
	var b strings.Builder
	b.WriteString(subject)
	if e.Kind != Other {
		b.WriteString(": ")
		b.WriteString(e.Kind.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As the cause.
func (e *Error) Unwrap() error { return e.Err }

// SourcesError is a pull that no physical reference could serve. It lists
// every attempt in the order tried, so one message shows what to fix on
// each mirror.
type SourcesError struct {
	Attempts []*Error
}

// Error implements error.
func (e *SourcesError) Error() string {
	if len(e.Attempts) == 0 {
		return "no pull sources"
	}
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		parts[i] = a.Error()
	}
	return fmt.Sprintf("no source served the image (%d tried): %s", len(e.Attempts), strings.Join(parts, "; "))
}

// Unwrap exposes each attempt to errors.As and errors.Is; errors.As finds
// the first attempt's *Error.
func (e *SourcesError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a
	}
	return errs
}

// errDigestMismatch is content that did not hash to the digest it was
// fetched by.
type errDigestMismatch struct {
	want, got v1.Hash
}

func (e *errDigestMismatch) Error() string {
	return fmt.Sprintf("content hashes to %s, want %s", e.got, e.want)
}

// errPlainHTTP is the refusal to speak plain HTTP to a registry that is not
// listed as insecure. go-containerregistry falls back to http for loopback
// and private addresses; containers/image, whose behaviour hcpmirror
// matches, does not.
var errPlainHTTP = errors.New("plain http refused: registry is not listed as insecure")

// errAttemptTimeout is one HTTP attempt exceeding the per-request timeout.
var errAttemptTimeout = errors.New("request timed out")

// errNoPlatform is an index without a manifest for the wanted platform.
type errNoPlatform struct {
	want v1.Platform
}

func (e *errNoPlatform) Error() string {
	return "index has no manifest for platform " + e.want.String()
}

// newError classifies err for ref on registry and redacts it with r. A
// caller's cancelled or expired ctx is kind Other whatever the stack made
// of it: nothing is wrong with the registry.
func newError(ctx context.Context, ref, registry string, err error, r *redactor) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	kind := classify(err)
	if ctx.Err() != nil {
		kind = Other
		if !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}
	return &Error{
		Reference: ref,
		Registry:  registry,
		Kind:      kind,
		Err:       &redactedError{msg: r.redact(describe(err)), err: err},
	}
}

// rePlainHTTPFallback is go-containerregistry's plain-HTTP fallback of a
// ping, as refused by baseTransport, appended after the HTTPS attempt's
// error.
var rePlainHTTPFallback = regexp.MustCompile(`; Get "http://[^"]*": ` + regexp.QuoteMeta(errPlainHTTP.Error()))

// describe is err's message in the terms a user acts on. Registry status
// errors are written without go-containerregistry's map dumps and "use GET
// for details"; the refused plain-HTTP fallback is left out unless the
// registry does speak plain HTTP (when the HTTPS attempt failed on TLS or
// the port is closed, it only hides the real cause); a certificate the
// client does not trust gets the way to trust it.
func describe(err error) string {
	msg := err.Error()
	var te *transport.Error
	if errors.As(err, &te) {
		msg = strings.Replace(msg, te.Error(), transportMessage(te), 1)
	}
	speaksHTTP := errors.Is(err, http.ErrSchemeMismatch) || strings.Contains(msg, "server gave HTTP response to HTTPS client")
	if !speaksHTTP {
		msg = rePlainHTTPFallback.ReplaceAllString(msg, "")
	}
	switch {
	case isCertificateError(err):
		msg += "; to trust the registry's certificate, give its CA with --ca-file, or put it in DIR/HOST[:PORT]/ca.crt and give --cert-dir DIR"
	case speaksHTTP:
		msg = rePlainHTTPFallback.ReplaceAllString(msg, "")
		msg += "; the registry speaks plain HTTP, which is refused unless it is listed as insecure (--insecure-registry HOST[:PORT])"
	}
	return msg
}

// transportMessage writes a registry's error response: method, URL, HTTP
// status, and the registry's error codes and messages (not their details,
// which go-containerregistry prints as Go maps).
func transportMessage(te *transport.Error) string {
	var b strings.Builder
	if te.Request != nil && te.Request.URL != nil {
		fmt.Fprintf(&b, "%s %s: ", te.Request.Method, te.Request.URL.Redacted())
	}
	fmt.Fprintf(&b, "HTTP %d", te.StatusCode)
	if t := http.StatusText(te.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	var diags []string
	for _, d := range te.Errors {
		s := string(d.Code)
		if d.Message != "" {
			s += ": " + d.Message
		}
		diags = append(diags, s)
	}
	if len(diags) > 0 {
		b.WriteString(" (" + strings.Join(diags, "; ") + ")")
	}
	return b.String()
}

// isCertificateError reports a certificate the client does not trust (as
// opposed to a TLS exchange that failed for other reasons).
func isCertificateError(err error) bool {
	var (
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		cv   *tls.CertificateVerificationError
		sysr x509.SystemRootsError
	)
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cv) || errors.As(err, &sysr)
}

// classify maps an error from the HTTP stack to a Kind. Order matters:
// go-containerregistry's ping reports the https and the (refused) http
// attempt together, and the https failure is the one that explains.
func classify(err error) Kind {
	var dm *errDigestMismatch
	if errors.As(err, &dm) {
		return DigestMismatch
	}
	var np *errNoPlatform
	var nm *errNotInManifest
	if errors.As(err, &np) || errors.As(err, &nm) {
		return NotFound
	}
	var te *transport.Error
	if errors.As(err, &te) {
		if k := classifyStatus(te); k != Other {
			return k
		}
	}
	if errors.Is(err, context.Canceled) {
		return Other
	}
	if isTLSError(err) {
		return TLS
	}
	if isNetworkError(err) {
		return Unreachable
	}
	if errors.Is(err, errPlainHTTP) || errors.Is(err, http.ErrSchemeMismatch) {
		return TLS
	}
	return Other
}

func classifyStatus(te *transport.Error) Kind {
	for _, d := range te.Errors {
		switch d.Code {
		case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
			return Unauthorized
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return NotFound
		case transport.TooManyRequestsErrorCode:
			return RateLimited
		}
	}
	switch s := te.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return Unauthorized
	case s == http.StatusNotFound:
		return NotFound
	case s == http.StatusTooManyRequests:
		return RateLimited
	case s >= 500:
		return Server
	}
	return Other
}

func isTLSError(err error) bool {
	var (
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		cv   *tls.CertificateVerificationError
		rh   tls.RecordHeaderError
		al   tls.AlertError
		sysr x509.SystemRootsError
	)
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cv) ||
		errors.As(err, &al) || errors.As(err, &sysr) || errors.As(err, &rh)
}

// isTimeout reports a registry that accepted the connection, or was being
// dialled, and did not answer in time.
func isTimeout(err error) bool {
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isNetworkError(err error) bool {
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redactedError shows a cleaned message but keeps the original chain for
// errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactor removes secrets from error text. Patterns catch what the HTTP
// stack may echo (Authorization headers, tokens in JSON, URL user info and
// query strings, which is where signed blob URLs keep their signatures);
// the configured secrets are removed verbatim as a last line of defence.
type redactor struct {
	secrets []string
}

var (
	reURL        = regexp.MustCompile(`(?i)\b(https?://)([^\s"'<>/@]*@)?([^\s"'<>?#]*)(\?[^\s"'<>#]*)?`)
	reAuthHeader = regexp.MustCompile(`(?i)\b(authorization|proxy-authorization)(["']?\s*[:=]\s*\[?["']?)(bearer|basic)?\s*[^\s"',\]]*`)
	reScheme     = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	reTokenJSON  = regexp.MustCompile(`(?i)"(access_token|token|refresh_token|password|identitytoken|auth)"\s*:\s*"[^"]*"`)
)

const redacted = "REDACTED"

// minSecretLen keeps verbatim scrubbing from mangling messages when a
// secret is a short, common string.
const minSecretLen = 4

func (r *redactor) redact(s string) string {
	s = reURL.ReplaceAllStringFunc(s, func(u string) string {
		m := reURL.FindStringSubmatch(u)
		out := m[1]
		if m[2] != "" {
			out += redacted + "@"
		}
		out += m[3]
		if m[4] != "" {
			out += "?" + redacted
		}
		return out
	})
	s = reAuthHeader.ReplaceAllString(s, "${1}${2}${3} "+redacted)
	s = reScheme.ReplaceAllString(s, "${1} "+redacted)
	s = reTokenJSON.ReplaceAllString(s, `"${1}":"`+redacted+`"`)
	if r != nil {
		for _, secret := range r.secrets {
			if len(secret) >= minSecretLen {
				s = strings.ReplaceAll(s, secret, redacted)
			}
		}
	}
	return s
}
