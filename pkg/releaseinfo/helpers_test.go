package releaseinfo

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// testComponents keeps published releases small: enough components to have
// a few manifest lists, quick to push under -race.
const testComponents = 20

// Repository paths of the canonical names, below a source host.
const (
	releasePath   = "/openshift-release-dev/ocp-release"
	componentPath = "/openshift-release-dev/ocp-v4.0-art-dev"
)

// published is a release pushed to one or more mirrors, named under a
// source host of the test's choosing.
type published struct {
	*synthrelease.Published
	// source is the host the canonical names use ("quay.io" or a test
	// address standing in for it).
	source string
	// release and components are the canonical names under source.
	release    string
	releaseTag string
	components map[string]string
	kubeVirt   string
}

func (p *published) releaseRepo() string   { return p.source + releasePath }
func (p *published) componentRepo() string { return p.source + componentPath }

// rename moves a canonical quay.io name under the test's source host.
func (p *published) rename(s string) string {
	return strings.ReplaceAll(s, "quay.io/openshift-release-dev/", p.source+"/openshift-release-dev/")
}

// publishOpts tweaks a test publication.
type publishOpts struct {
	seed  int64
	edit  func(files map[string][]byte) error
	count int
}

// publish pushes the same synthetic release (same seed, same digests) to
// every registry in regs, with the payload naming source instead of quay.io,
// so a test can make the source a registry it controls or one that must
// never be dialled.
func publish(t testing.TB, source string, po publishOpts, regs ...*testreg.Registry) *published {
	t.Helper()
	out := &published{source: source}
	n := po.count
	if n == 0 {
		n = testComponents
	}
	for _, reg := range regs {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: reg.CertPool}}
		t.Cleanup(tr.CloseIdleConnections)
		auth := authn.Anonymous
		if reg.Username != "" {
			auth = &authn.Basic{Username: reg.Username, Password: reg.Password}
		}
		pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
			Destination: reg.Addr,
			Components:  n,
			Seed:        po.seed,
			EditManifests: func(files map[string][]byte) error {
				for _, f := range []string{release.ImageReferencesFile, release.BootImagesFile} {
					if b, ok := files[f]; ok {
						files[f] = []byte(out.rename(string(b)))
					}
				}
				if po.edit != nil {
					return po.edit(files)
				}
				return nil
			},
			RemoteOptions: []remote.Option{remote.WithTransport(tr), remote.WithAuth(auth)},
		})
		if err != nil {
			t.Fatalf("publishing to %s: %v", reg.Addr, err)
		}
		if out.Published != nil && out.Published.Release != pub.Release {
			t.Fatalf("publishing twice gave different releases: %s and %s", out.Published.Release, pub.Release)
		}
		out.Published = pub
	}
	out.release = out.rename(out.Published.Release)
	out.releaseTag = out.rename(out.Published.ReleaseTag)
	out.kubeVirt = out.rename(out.Published.KubeVirt)
	out.components = map[string]string{}
	for n, c := range out.Published.Components {
		out.components[n] = out.rename(c)
	}
	return out
}

// entry is one mirror-set entry in tests.
type entry struct {
	source  string
	mirrors []string
	policy  mirrorset.Policy
}

// compile builds the effective configuration of an IDMS and an ITMS.
func compile(t testing.TB, digest, tag []entry) *mirrorset.Config {
	t.Helper()
	var sets []mirrorset.Set
	for _, g := range []struct {
		kind    mirrorset.Kind
		entries []entry
	}{{mirrorset.KindIDMS, digest}, {mirrorset.KindITMS, tag}} {
		if len(g.entries) == 0 {
			continue
		}
		s := mirrorset.Set{Kind: g.kind, Name: "test"}
		for _, e := range g.entries {
			s.Entries = append(s.Entries, mirrorset.Entry{Source: e.source, Mirrors: e.mirrors, Policy: e.policy})
		}
		sets = append(sets, s)
	}
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		t.Fatalf("compiling mirror sets: %v", err)
	}
	return cfg
}

// releaseMirrors is the IDMS of a publication: both repositories mirrored
// to each registry in order, oc-mirror v2's layout.
func releaseMirrors(p *published, policy mirrorset.Policy, mirrorAddrs ...string) []entry {
	var rel, comp []string
	for _, a := range mirrorAddrs {
		rel = append(rel, a+"/"+synthrelease.DefaultReleaseRepo)
		comp = append(comp, a+"/"+synthrelease.DefaultComponentsRepo)
	}
	return []entry{
		{source: p.releaseRepo(), mirrors: rel, policy: policy},
		{source: p.componentRepo(), mirrors: comp, policy: policy},
	}
}

// newProvider builds a Provider that ignores the environment's credential
// files and retries quickly.
func newProvider(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	base := []Option{WithRegistryOptions(
		registry.WithoutDefaultAuthFile(),
		registry.WithRetries(2, time.Millisecond, 10*time.Millisecond),
		registry.WithTimeout(10*time.Second),
	)}
	p, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// trust lets the Provider reach test registries: plain-HTTP ones (and
// addresses that are down) as insecure, TLS ones through their CA.
func trust(regs ...any) Option {
	var opts []registry.Option
	for _, r := range regs {
		switch r := r.(type) {
		case *testreg.Registry:
			if r.CAFile != "" {
				opts = append(opts, registry.WithCAFile(r.CAFile))
			} else {
				opts = append(opts, registry.WithInsecureRegistry(r.Addr))
			}
		case string:
			opts = append(opts, registry.WithInsecureRegistry(r))
		default:
			panic(fmt.Sprintf("trust: %T", r))
		}
	}
	return WithRegistryOptions(opts...)
}

// pullSecret renders a .dockerconfigjson for host.
func pullSecret(t testing.TB, host, user, password string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"auths": map[string]any{
		host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// closedAddr is a loopback address nothing listens on: a mirror that is
// down.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// pathHas matches requests whose URL path contains every one of parts.
func pathHas(parts ...string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		for _, p := range parts {
			if !strings.Contains(r.URL.Path, p) {
				return false
			}
		}
		return true
	}
}

// digestOf returns the "sha256:…" part of a digest reference.
func digestOf(ref string) string {
	_, d, _ := strings.Cut(ref, "@")
	return d
}

// waitFor polls cond instead of sleeping for a fixed time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// manifestGets counts manifest requests for repo on reg.
func manifestGets(reg *testreg.Registry, repo string) int {
	n := 0
	for p, c := range reg.RequestsByPath() {
		if strings.HasPrefix(p, "/v2/"+repo+"/manifests/") {
			n += c
		}
	}
	return n
}
