package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	r := &redactor{secrets: []string{"hunter2-long", b64("user:hunter2-long")}}
	tests := []struct {
		name, in string
		gone     []string // must not survive
		kept     []string // must survive, so messages stay useful
	}{
		{
			name: "signed blob URL",
			in:   `GET https://bucket.s3.example.com/docker/blobs/sha256/ab/data?X-Amz-Signature=deadbeefsig&X-Amz-Credential=AKIAXYZ&digest=sha256:1: unexpected status code 403`,
			gone: []string{"deadbeefsig", "AKIAXYZ", "digest=sha256"},
			kept: []string{"https://bucket.s3.example.com/docker/blobs/sha256/ab/data?REDACTED", "403"},
		},
		{
			name: "user info in URL",
			in:   `Get "https://admin:s3cr3tpass@mirror.local:5000/v2/": EOF`,
			gone: []string{"admin", "s3cr3tpass"},
			kept: []string{"https://REDACTED@mirror.local:5000/v2/"},
		},
		{
			name: "Authorization header dump",
			in:   `request headers: map[Authorization:[Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig] Accept:[*/*]]`,
			gone: []string{"eyJhbGciOiJSUzI1NiJ9"},
			kept: []string{"Authorization:[Bearer REDACTED]", "Accept"},
		},
		{
			name: "Authorization header line",
			in:   "Authorization: Basic dXNlcjpodW50ZXIy\r\nHost: x",
			gone: []string{"dXNlcjpodW50ZXIy"},
			kept: []string{"Host: x"},
		},
		{
			name: "bare bearer token",
			in:   `token exchange: bearer abcdefghijklmnop rejected`,
			gone: []string{"abcdefghijklmnop"},
			kept: []string{"rejected"},
		},
		{
			name: "token in JSON body",
			in:   `unexpected body {"token":"tok-123456","access_token":"acc-654321","expires_in":300}`,
			gone: []string{"tok-123456", "acc-654321"},
			kept: []string{"expires_in"},
		},
		{
			name: "configured secrets",
			in:   `registry said: bad credentials hunter2-long (` + b64("user:hunter2-long") + `)`,
			gone: []string{"hunter2-long", b64("user:hunter2-long")},
			kept: []string{"bad credentials"},
		},
		{
			name: "challenge stays readable",
			in:   `WWW-Authenticate: Basic realm="registry"`,
			kept: []string{`Basic realm="registry"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.redact(tc.in)
			for _, g := range tc.gone {
				if strings.Contains(got, g) {
					t.Errorf("redact(%q) = %q, still contains %q", tc.in, got, g)
				}
			}
			for _, k := range tc.kept {
				if !strings.Contains(got, k) {
					t.Errorf("redact(%q) = %q, lost %q", tc.in, got, k)
				}
			}
		})
	}
}

// TestRedactSignedRedirect follows a blob redirect to a signed URL that
// fails, the way a mirror backed by object storage can, and checks the
// signature stays out of the error.
func TestRedactSignedRedirect(t *testing.T) {
	t.Parallel()
	mw := &testreg.Switch{}
	reg := testreg.Start(t, testreg.WithHandler(mw.Wrap), testreg.WithBasicAuth("robot", "robot-password-1"))
	_, ref := newFixture(t, reg).image("a/b:1")
	mw.Set(testreg.When(testreg.BlobRequests, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/storage/blob?X-Amz-Signature=sig-topsecret&X-Amz-Security-Token=sts-topsecret", http.StatusTemporaryRedirect)
		})
	}))
	c := newClient(t, WithInsecureRegistry(reg.Addr), WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr: {"robot", "robot-password-1"}})))
	img, err := c.Image(t.Context(), ref, DefaultPlatform)
	if err != nil {
		t.Fatalf("Image = %v", err)
	}
	_, err = img.RawConfigFile()
	if err == nil {
		t.Fatal("RawConfigFile() = nil error from a failing signed URL")
	}
	msg := err.Error()
	for _, s := range []string{"sig-topsecret", "sts-topsecret", "robot-password-1", b64("robot:robot-password-1")} {
		if strings.Contains(msg, s) {
			t.Errorf("error %q leaks %q", msg, s)
		}
	}
	if !strings.Contains(msg, "a/b@sha256:") {
		t.Errorf("error %q does not name the blob's reference", msg)
	}
	var e *Error
	if errors.As(err, &e) && strings.Contains(fmt.Sprint(e.Err), "topsecret") {
		t.Errorf("Error.Err %q leaks the signature", e.Err)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"401", &transport.Error{StatusCode: 401}, Unauthorized},
		{"403 denied", &transport.Error{StatusCode: 403, Errors: []transport.Diagnostic{{Code: transport.DeniedErrorCode}}}, Unauthorized},
		{"404", &transport.Error{StatusCode: 404}, NotFound},
		{"manifest unknown with odd status", &transport.Error{StatusCode: 400, Errors: []transport.Diagnostic{{Code: transport.ManifestUnknownErrorCode}}}, NotFound},
		{"429", &transport.Error{StatusCode: 429}, RateLimited},
		{"503", &transport.Error{StatusCode: 503}, Server},
		{"400", &transport.Error{StatusCode: 400}, Other},
		{"refused", &url.Error{Op: "Get", URL: "https://x/v2/", Err: opErr}, Unreachable},
		{"dns", &net.DNSError{Err: "no such host", Name: "x"}, Unreachable},
		{"eof", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), Unreachable},
		{"timeout", errAttemptTimeout, Unreachable},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://x/v2/", Err: x509.UnknownAuthorityError{}}, TLS},
		{"hostname", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}, TLS},
		{"plain http server", &url.Error{Op: "Get", URL: "https://x/v2/", Err: http.ErrSchemeMismatch}, TLS},
		{"refused beside plain http refusal", errors.Join(&url.Error{Op: "Get", URL: "https://x/v2/", Err: opErr}, errPlainHTTP), Unreachable},
		{"digest mismatch", &errDigestMismatch{}, DigestMismatch},
		{"no platform", &errNoPlatform{}, NotFound},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), Other},
		{"anything else", errors.New("boom"), Other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newError(ctx, "m.local:5000/ocp/release@sha256:abc", "m.local:5000", &transport.Error{StatusCode: 401}, nil)
	msg := e.Error()
	if !strings.HasPrefix(msg, "m.local:5000/ocp/release@sha256:abc: unauthorized: ") {
		t.Errorf("message = %q, want the reference then the kind", msg)
	}
	if strings.Contains(strings.ToLower(msg), "failed to") {
		t.Errorf("message = %q says \"failed to\"", msg)
	}
	var te *transport.Error
	if !errors.As(e, &te) || te.StatusCode != 401 {
		t.Error("errors.As does not reach the transport error")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	ce := newError(cctx, "r", "h", &net.OpError{Op: "dial", Err: syscall.ECONNRESET}, nil)
	if ce.Kind != Other || !errors.Is(ce, context.Canceled) {
		t.Errorf("error after cancel = %v (kind %v), want kind Other wrapping context.Canceled", ce, ce.Kind)
	}

	se := &SourcesError{Attempts: []*Error{e, {Reference: "q/x@sha256:1", Kind: NotFound, Err: errors.New("manifest unknown")}}}
	if got := se.Error(); !strings.Contains(got, "(2 tried)") || !strings.Contains(got, "q/x@sha256:1: not found") {
		t.Errorf("SourcesError = %q", got)
	}
	var first *Error
	if !errors.As(se, &first) || first != e {
		t.Error("errors.As(*SourcesError) does not give the first attempt")
	}
}

// TestFailureMessages checks what users read when a pull fails: which side
// of an authentication failure to fix, how to trust a certificate, and no
// noise (Go map dumps, "use GET for details", a refused plain-HTTP fallback
// when the registry speaks TLS or the port is closed).
func TestFailureMessages(t *testing.T) {
	t.Parallel()
	tlsReg := testreg.Start(t, testreg.WithTLS())
	_, tlsRef := newFixture(t, tlsReg).image("a/b:1")
	authReg := testreg.Start(t, testreg.WithBasicAuth("robot", "robot-pw-1"))
	_, authRef := newFixture(t, authReg).image("a/b:1")
	plain := testreg.Start(t)
	_, plainRef := newFixture(t, plain).image("a/b:1")
	closed := closedAddr(t)
	authFile := writeFile(t, t.TempDir(), "auth.json", dockerConfig(t, map[string][2]string{"other.example.com": {"u", "p"}}))
	wrongFile := writeFile(t, t.TempDir(), "auth.json", dockerConfig(t, map[string][2]string{authReg.Addr: {"robot", "wrong-pw-1"}}))

	tests := []struct {
		name      string
		opts      []Option
		get       string // "head" or "manifest"
		ref       string
		kind      Kind
		want, not []string
	}{
		{name: "untrusted certificate", ref: tlsRef, kind: TLS,
			want: []string{"x509: certificate signed by unknown authority", "--ca-file", "--cert-dir"},
			not:  []string{"plain http", "--insecure-registry"}},
		{name: "closed port", ref: closed + "/a/b:1", kind: Unreachable,
			want: []string{"connection refused"}, not: []string{"plain http"}},
		{name: "plain HTTP registry not listed as insecure", ref: plainRef, kind: TLS,
			want: []string{"server gave HTTP response to HTTPS client", "--insecure-registry " + "HOST"}},
		{name: "no credentials, no file", opts: []Option{WithInsecureRegistry(authReg.Addr)}, ref: authRef, kind: Unauthorized,
			want: []string{"no credentials for " + authReg.Addr + ": no auth file was given", "HTTP 401 Unauthorized"},
			not:  []string{"use GET for details"}},
		{name: "no credentials in file", opts: []Option{WithInsecureRegistry(authReg.Addr), WithAuthFile(authFile)}, ref: authRef, kind: Unauthorized,
			want: []string{"no credentials for " + authReg.Addr + " in " + authFile}},
		{name: "credentials rejected", opts: []Option{WithInsecureRegistry(authReg.Addr), WithAuthFile(wrongFile)}, get: "manifest", ref: authRef, kind: Unauthorized,
			want: []string{"credentials rejected by " + authReg.Addr, wrongFile, "HTTP 401 Unauthorized (UNAUTHORIZED: authentication required)"},
			not:  []string{"map[", "wrong-pw-1"}},
		{name: "not found by HEAD", opts: []Option{WithInsecureRegistry(plain.Addr)}, ref: plain.Addr + "/a/b:2", kind: NotFound,
			want: []string{"HEAD http://" + plain.Addr + "/v2/a/b/manifests/2: HTTP 404 Not Found"}, not: []string{"use GET for details"}},
		{name: "not found by GET", opts: []Option{WithInsecureRegistry(plain.Addr)}, get: "manifest", ref: plain.Addr + "/a/b:2", kind: NotFound,
			want: []string{"HTTP 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)"}, not: []string{"unknown tag=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.opts...)
			var err error
			if tc.get == "manifest" {
				_, err = c.Manifest(t.Context(), tc.ref)
			} else {
				_, err = c.Head(t.Context(), tc.ref)
			}
			if k, ok := kindOf(err); !ok || k != tc.kind {
				t.Fatalf("error = %v, want kind %v", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q\nwant it to contain %q", err, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error = %q\nwant it without %q", err, n)
				}
			}
		})
	}
}
