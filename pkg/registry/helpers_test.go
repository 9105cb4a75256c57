package registry

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// fixture pushes test content with go-containerregistry directly, so the
// client under test only ever reads what an independent client wrote.
type fixture struct {
	t    *testing.T
	reg  *testreg.Registry
	auth authn.Authenticator
}

func newFixture(t *testing.T, reg *testreg.Registry) *fixture {
	auth := authn.Anonymous
	if reg.Username != "" {
		auth = &authn.Basic{Username: reg.Username, Password: reg.Password}
	}
	return &fixture{t: t, reg: reg, auth: auth}
}

func (f *fixture) remoteOpts() []remote.Option {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.reg.CertPool}}
	f.t.Cleanup(tr.CloseIdleConnections)
	return []remote.Option{remote.WithTransport(tr), remote.WithAuth(f.auth), remote.WithContext(f.t.Context())}
}

func (f *fixture) parse(ref string) name.Reference {
	f.t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// image pushes a random image to repo:tag on the fixture's registry and
// returns it with its digest reference.
func (f *fixture) image(repoTag string) (v1.Image, string) {
	f.t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		f.t.Fatal(err)
	}
	return img, f.pushImage(repoTag, img)
}

func (f *fixture) pushImage(repoTag string, img v1.Image) string {
	f.t.Helper()
	r := f.parse(f.reg.Ref(repoTag))
	if err := remote.Write(r, img, f.remoteOpts()...); err != nil {
		f.t.Fatalf("pushing %s: %v", r, err)
	}
	d, err := img.Digest()
	if err != nil {
		f.t.Fatal(err)
	}
	return r.Context().Digest(d.String()).String()
}

// index pushes an OCI index with one random image per platform and returns
// the index's digest reference and the images by platform.
func (f *fixture) index(repoTag string, platforms ...v1.Platform) (string, map[string]v1.Image) {
	f.t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	imgs := map[string]v1.Image{}
	for _, p := range platforms {
		img, err := random.Image(256, 1)
		if err != nil {
			f.t.Fatal(err)
		}
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
		imgs[p.String()] = img
	}
	r := f.parse(f.reg.Ref(repoTag))
	if err := remote.WriteIndex(r, idx, f.remoteOpts()...); err != nil {
		f.t.Fatalf("pushing index %s: %v", r, err)
	}
	d, err := idx.Digest()
	if err != nil {
		f.t.Fatal(err)
	}
	return r.Context().Digest(d.String()).String(), imgs
}

// newClient builds a Client isolated from the environment's credential
// files, with retries quick enough for tests.
func newClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithoutDefaultAuthFile(), WithRetries(3, time.Millisecond, 20*time.Millisecond)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// dockerConfig renders a .dockerconfigjson with "auth" entries.
func dockerConfig(t *testing.T, entries map[string][2]string) []byte {
	t.Helper()
	auths := map[string]map[string]string{}
	for k, up := range entries {
		auths[k] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up[0] + ":" + up[1]))}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedAddr is a loopback address nothing listens on: a mirror that is
// down.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func kindOf(err error) (Kind, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Kind, true
}

// waitFor polls cond instead of sleeping for a fixed time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeClock records backoff waits and returns at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func readAllClose(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
