package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// client returns an HTTP client for r that trusts r's CA when it has one.
func client(t *testing.T, pool *x509.CertPool) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func get(t *testing.T, c *http.Client, url string, user, pass string) (int, http.Header, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// push writes a random image to ref with go-containerregistry, as a client
// independent of hcpmirror's would.
func push(t *testing.T, ref string, pool *x509.CertPool, auth authn.Authenticator, opts ...name.Option) string {
	t.Helper()
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	if auth == nil {
		auth = authn.Anonymous
	}
	if err := remote.Write(r, img, remote.WithTransport(tr), remote.WithAuth(auth), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestPushPullPlain(t *testing.T) {
	t.Parallel()
	r := Start(t)
	if !strings.HasPrefix(r.Addr, "127.0.0.1:") {
		t.Errorf("Addr = %q, want 127.0.0.1:<port>", r.Addr)
	}
	if r.CAFile != "" || r.CertPool != nil {
		t.Errorf("plain registry has CA %q", r.CAFile)
	}
	dgst := push(t, r.Ref("ocp/release:4.18"), nil, nil, name.Insecure)

	c := client(t, nil)
	status, hdr, err := get(t, c, r.URL()+"/v2/ocp/release/manifests/"+dgst, "", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET manifest = %d, %v; want 200", status, err)
	}
	if got := hdr.Get("Docker-Content-Digest"); got != dgst {
		t.Errorf("Docker-Content-Digest = %q, want %q", got, dgst)
	}
	if got := r.RequestsByPath()["/v2/ocp/release/manifests/"+dgst]; got != 1 {
		t.Errorf("requests for the manifest by digest = %d, want 1", got)
	}
	if got := r.RequestsByHost()[r.Addr]; got != r.Requests() || got == 0 {
		t.Errorf("requests with Host %s = %d, want all %d", r.Addr, got, r.Requests())
	}
	if r.Connections() == 0 {
		t.Error("Connections() = 0 after traffic")
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	r := Start(t, WithTLS())
	if r.Scheme() != "https" {
		t.Fatalf("Scheme() = %q, want https", r.Scheme())
	}
	pem, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatalf("reading CAFile: %v", err)
	}
	fromFile := x509.NewCertPool()
	if !fromFile.AppendCertsFromPEM(pem) {
		t.Fatalf("CAFile %s holds no certificate", r.CAFile)
	}

	tests := []struct {
		name    string
		pool    *x509.CertPool
		wantErr bool
	}{
		{name: "CertPool", pool: r.CertPool},
		{name: "CAFile", pool: fromFile},
		{name: "system roots only", pool: nil, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, err := get(t, client(t, tc.pool), r.URL()+"/v2/", "", "")
			var uaErr x509.UnknownAuthorityError
			switch {
			case tc.wantErr && !errors.As(err, &uaErr):
				t.Errorf("GET /v2/ error = %v, want unknown authority", err)
			case !tc.wantErr && (err != nil || status != http.StatusOK):
				t.Errorf("GET /v2/ = %d, %v; want 200", status, err)
			}
		})
	}

	t.Run("push with CA", func(t *testing.T) {
		push(t, r.Ref("a/b:1"), r.CertPool, nil)
	})
	t.Run("each registry has its own CA", func(t *testing.T) {
		other := Start(t, WithTLS())
		_, _, err := get(t, client(t, r.CertPool), other.URL()+"/v2/", "", "")
		if err == nil {
			t.Error("a second registry's certificate verified with the first registry's CA")
		}
	})
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	r := Start(t, WithBasicAuth("alice", "s3cret"))
	c := client(t, nil)
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{name: "anonymous", want: http.StatusUnauthorized},
		{name: "wrong password", user: "alice", pass: "nope", want: http.StatusUnauthorized},
		{name: "unknown user", user: "bob", pass: "s3cret", want: http.StatusUnauthorized},
		{name: "right password", user: "alice", pass: "s3cret", want: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, err := get(t, c, r.URL()+"/v2/", tc.user, tc.pass)
			if err != nil || status != tc.want {
				t.Fatalf("GET /v2/ = %d, %v; want %d", status, err, tc.want)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", hdr.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("push", func(t *testing.T) {
		push(t, r.Ref("a/b:1"), nil, &authn.Basic{Username: "alice", Password: "s3cret"}, name.Insecure)
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("Respond", func(t *testing.T) {
		t.Parallel()
		r := Start(t, WithHandler(Respond(2, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}})))
		c := client(t, nil)
		want := []int{429, 429, 200, 200}
		for i, w := range want {
			status, hdr, err := get(t, c, r.URL()+"/v2/", "", "")
			if err != nil || status != w {
				t.Fatalf("request %d = %d, %v; want %d", i, status, err, w)
			}
			if w == 429 && hdr.Get("Retry-After") != "7" {
				t.Errorf("request %d Retry-After = %q, want 7", i, hdr.Get("Retry-After"))
			}
		}
		if got := r.RequestsByPath()["/v2/"]; got != 4 {
			t.Errorf("counted %d requests to /v2/, want 4 (faults included)", got)
		}
	})
	t.Run("When ManifestRequests", func(t *testing.T) {
		t.Parallel()
		r := Start(t, WithHandler(When(ManifestRequests, Respond(-1, http.StatusInternalServerError, nil))))
		c := client(t, nil)
		if status, _, err := get(t, c, r.URL()+"/v2/", "", ""); err != nil || status != 200 {
			t.Errorf("GET /v2/ = %d, %v; want 200", status, err)
		}
		for range 2 {
			if status, _, err := get(t, c, r.URL()+"/v2/a/b/manifests/latest", "", ""); err != nil || status != 500 {
				t.Errorf("GET manifest = %d, %v; want 500", status, err)
			}
		}
	})
	t.Run("DropConnections", func(t *testing.T) {
		t.Parallel()
		r := Start(t, WithHandler(DropConnections(1)))
		c := client(t, nil)
		if _, _, err := get(t, c, r.URL()+"/v2/", "", ""); err == nil {
			t.Error("first request succeeded, want a dropped connection")
		}
		if status, _, err := get(t, c, r.URL()+"/v2/", "", ""); err != nil || status != 200 {
			t.Errorf("second request = %d, %v; want 200", status, err)
		}
	})
	t.Run("Hold", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		r := Start(t, WithHandler(Hold(release)))
		c := client(t, nil)
		done := make(chan int)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, r.URL()+"/v2/", nil)
			resp, err := c.Do(req)
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		waitFor(t, func() bool { return r.Requests() == 1 })
		select {
		case s := <-done:
			t.Fatalf("held request finished early with %d", s)
		default:
		}
		close(release)
		if s := <-done; s != 200 {
			t.Errorf("released request = %d, want 200", s)
		}
	})
	t.Run("Delay gives up on cancel", func(t *testing.T) {
		t.Parallel()
		r := Start(t, WithHandler(Delay(time.Hour)))
		c := client(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+"/v2/", nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		waitFor(t, func() bool { return r.Requests() == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled request error = %v, want context.Canceled", err)
		}
		// Close (in cleanup) would hang if the handler stayed blocked.
	})
}

func TestSeveralRegistries(t *testing.T) {
	t.Parallel()
	a := Start(t)
	b := Start(t, WithTLS())
	if a.Addr == b.Addr {
		t.Fatalf("two registries share %s", a.Addr)
	}
	dgst := push(t, a.Ref("x/y:1"), nil, nil, name.Insecure)
	status, _, err := get(t, client(t, b.CertPool), b.URL()+"/v2/x/y/manifests/"+dgst, "", "")
	if err != nil || status != http.StatusNotFound {
		t.Errorf("image pushed to one registry: other answers %d, %v; want 404", status, err)
	}
	if b.Requests() != 1 || a.RequestsByPath()["/v2/x/y/manifests/"+dgst] != 0 {
		t.Errorf("counters mixed up: a=%v b=%v", a.RequestsByPath(), b.RequestsByPath())
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	certDir := t.TempDir()
	ready := make(chan *Registry, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(ctx, "127.0.0.1:0", WithCertDir(certDir), WithReady(func(r *Registry) { ready <- r }))
	}()
	var r *Registry
	select {
	case r = <-ready:
	case err := <-errc:
		t.Fatalf("Serve returned before ready: %v", err)
	}
	if status, _, err := get(t, client(t, r.CertPool), r.URL()+"/v2/", "", ""); err != nil || status != 200 {
		t.Errorf("GET /v2/ = %d, %v; want 200", status, err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if _, err := os.Stat(certDir + "/ca.crt"); err != nil {
		t.Errorf("CA in WithCertDir directory is gone after stop: %v", err)
	}
	if _, err := net.Dial("tcp", r.Addr); err == nil {
		t.Errorf("registry %s still accepts connections after Serve returned", r.Addr)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"auth twice", []Option{WithBasicAuth("a", "b"), WithBasicAuth("c", "d")}, "basic auth given twice"},
		{"colon in user", []Option{WithBasicAuth("a:b", "c")}, "contains ':'"},
		{"empty password", []Option{WithBasicAuth("a", "")}, "password is empty"},
		{"nil wrapper", []Option{WithHandler(nil)}, "nil handler wrapper"},
		{"empty cert dir", []Option{WithCertDir("")}, "certificate directory is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Listen("127.0.0.1:0", tc.opts...)
			if err == nil {
				r.Close()
				t.Fatalf("Listen() = nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Listen() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	r := Start(t, WithLog(&buf))
	quiet := Start(t)
	c := client(t, nil)
	for _, reg := range []*Registry{r, quiet} {
		if status, _, err := get(t, c, reg.URL()+"/v2/no/such/manifests/latest", "", ""); err != nil || status != 404 {
			t.Fatalf("GET unknown manifest = %d, %v; want 404", status, err)
		}
	}
	out := buf.String()
	if !strings.Contains(out, "response completed with error") {
		t.Errorf("WithLog writer got %q, want distribution's log of the 404", out)
	}
	if n := strings.Count(out, "response completed with error"); n != 1 {
		t.Errorf("WithLog writer got %d 404 lines, want 1 (the quiet registry's must not leak into it)", n)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dial    bool
		wantErr bool
	}{
		{name: "untouched", dial: false, wantErr: false},
		{name: "contacted", dial: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTB{TB: t}
			addr := Unreachable(ft)
			if tc.dial {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatalf("dialling %s: %v", addr, err)
				}
				// The server closes at once: reading ends the
				// exchange, so the accept is certainly counted.
				_, _ = conn.Read(make([]byte, 1))
				conn.Close()
			}
			ft.runCleanups()
			if got := len(ft.errs) > 0; got != tc.wantErr {
				t.Errorf("test failed = %v (%q), want %v", got, ft.errs, tc.wantErr)
			}
		})
	}
}

func TestGoContainerRegistryPing(t *testing.T) {
	t.Parallel()
	// go-containerregistry's transport is what pkg/registry builds on;
	// check the basic auth challenge is one it understands.
	r := Start(t, WithBasicAuth("u", "p"))
	reg, err := name.NewRegistry(r.Addr, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ch, err := transport.Ping(t.Context(), reg, tr)
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if !strings.EqualFold(ch.Scheme, "basic") {
		t.Errorf("challenge scheme = %q, want basic", ch.Scheme)
	}
}

// waitFor polls cond until it holds; tests use it instead of sleeping.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeTB records failures and cleanups so Unreachable's own failure can be
// observed without failing this test.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
