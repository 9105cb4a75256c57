package releaseinfo

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// benchFixture is one full-size release (190 components) on a local TLS
// registry, published once per test binary: publishing is the slow part.
type benchFixture struct {
	reg     *testreg.Registry
	certDir string
	pub     *synthrelease.Published
	cfg     *mirrorset.Config
	err     error
}

var (
	benchOnce sync.Once
	bench     *benchFixture
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench != nil {
		if bench.reg != nil {
			_ = bench.reg.Close()
		}
		_ = os.RemoveAll(bench.certDir)
	}
	os.Exit(code)
}

// benchRelease publishes the release the way a disconnected install finds
// it: canonical quay.io names in the payload, an ImageDigestMirrorSet with
// NeverContactSource pointing both repositories at the local registry. With
// the source blocked, nothing here can reach quay.io.
func benchRelease(b *testing.B) *benchFixture {
	b.Helper()
	benchOnce.Do(func() {
		f := &benchFixture{}
		bench = f
		if f.certDir, f.err = os.MkdirTemp("", "hcpmirror-bench-"); f.err != nil {
			return
		}
		if f.reg, f.err = testreg.Listen("127.0.0.1:0", testreg.WithCertDir(f.certDir)); f.err != nil {
			return
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.reg.CertPool}}
		defer tr.CloseIdleConnections()
		f.pub, f.err = synthrelease.Publish(context.Background(), synthrelease.PublishOptions{
			Destination:   f.reg.Addr,
			Components:    synthrelease.DefaultComponentCount,
			RemoteOptions: []remote.Option{remote.WithTransport(tr)},
		})
		if f.err != nil {
			return
		}
		set := mirrorset.Set{Kind: mirrorset.KindIDMS, Name: "bench"}
		for _, e := range f.pub.Mirrors {
			set.Entries = append(set.Entries, mirrorset.Entry{Source: e.Source, Mirrors: e.Mirrors, Policy: mirrorset.NeverContactSource})
		}
		f.cfg, f.err = mirrorset.Compile([]mirrorset.Set{set})
	})
	if bench.err != nil {
		b.Fatalf("publishing the benchmark release: %v", bench.err)
	}
	return bench
}

// images is every canonical reference verify checks: the release image,
// the components and the KubeVirt boot image.
func (f *benchFixture) images() []string {
	out := []string{f.pub.Release}
	for _, c := range f.pub.Components {
		out = append(out, c)
	}
	return append(out, f.pub.KubeVirt)
}

// physical is the mirror's digest reference of every image verify checks:
// what a script has to hand skopeo, which cannot resolve mirror sets itself
// (skopeo 1.9 reads only the system registries.conf, and a script must
// never let it fall back to quay.io).
func (f *benchFixture) physical() []string {
	out := make([]string, 0, len(f.pub.Pushed))
	for _, p := range f.pub.Pushed {
		out = append(out, p.Digest)
	}
	return out
}

func (f *benchFixture) provider(b *testing.B, opts ...Option) *Provider {
	b.Helper()
	p, err := New(append([]Option{WithRegistryOptions(registry.WithoutDefaultAuthFile(), registry.WithCAFile(f.reg.CAFile))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkVerify190VersusNaiveScript compares verify with a naive shell
// script, not with skopeo's best: verify on a 190-component release through
// a local TLS mirror, 16 images checked at once over shared connections,
// beside a loop that runs `skopeo inspect --raw` once per image, one process
// after another, on the mirror's references of the same 192 images. The
// difference is mostly concurrency and process start-up, not a faster
// client; a script running skopeo in parallel would close much of the gap.
// Both start cold: verify builds a new Provider (no cache, no connections)
// every iteration, reads the payload and resolves every canonical name
// through the mirror sets; the script is handed the physical references
// ready-made, work it would otherwise have to do itself.
func BenchmarkVerify190VersusNaiveScript(b *testing.B) {
	f := benchRelease(b)
	images, physical := f.images(), f.physical()
	if len(images) != len(physical) {
		b.Fatalf("%d canonical images, %d physical", len(images), len(physical))
	}

	b.Run("hcpmirror", func(b *testing.B) {
		for b.Loop() {
			p := f.provider(b)
			rep, err := p.Verify(b.Context(), f.cfg, f.pub.Release, nil, VerifyOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if !rep.OK() || len(rep.Checks) != len(images) {
				b.Fatalf("verify: %d checks, %d missing; want %d, 0", len(rep.Checks), len(rep.Missing()), len(images))
			}
			p.Close()
		}
		b.ReportMetric(float64(len(images)), "images/op")
	})

	b.Run("naive-script-serial-skopeo", func(b *testing.B) {
		skopeo, err := exec.LookPath("skopeo")
		if err != nil {
			b.Skip("skopeo is not on PATH; install it (apt-get install skopeo) to compare verify with a naive script running `skopeo inspect --raw` per image, serially")
		}
		for b.Loop() {
			for _, img := range physical {
				cmd := exec.CommandContext(b.Context(), skopeo, "inspect", "--raw", "--cert-dir", f.certDir, "docker://"+img)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("skopeo inspect %s: %v\n%s", img, err, out)
				}
			}
		}
		b.ReportMetric(float64(len(images)), "images/op")
	})
}

// BenchmarkLookup measures `release info`'s library call on a 190-component
// release: cold (new Provider, full fetch and parse) and warm (answered from
// the cache, which is what every reconcile after the first costs).
func BenchmarkLookup(b *testing.B) {
	f := benchRelease(b)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			p := f.provider(b)
			if _, err := p.Lookup(b.Context(), f.cfg, f.pub.Release, nil); err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
	for _, ref := range []struct{ name, ref string }{{"warm-digest", f.pub.Release}, {"warm-tag", f.pub.ReleaseTag}} {
		b.Run(ref.name, func(b *testing.B) {
			p := f.provider(b)
			defer p.Close()
			cfg := f.cfg
			if ref.name == "warm-tag" {
				// The release tag needs a tag mirror.
				var err error
				cfg, err = mirrorset.Compile([]mirrorset.Set{
					{Kind: mirrorset.KindIDMS, Name: "d", Entries: []mirrorset.Entry{{Source: f.pub.Mirrors[0].Source, Mirrors: f.pub.Mirrors[0].Mirrors, Policy: mirrorset.NeverContactSource}}},
					{Kind: mirrorset.KindITMS, Name: "t", Entries: []mirrorset.Entry{{Source: f.pub.Mirrors[0].Source, Mirrors: f.pub.Mirrors[0].Mirrors, Policy: mirrorset.NeverContactSource}}},
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			secret := []byte(fmt.Sprintf(`{"auths":{%q:{"auth":"dXNlcjpwYXNz"}}}`, f.reg.Addr))
			if _, err := p.Lookup(b.Context(), cfg, ref.ref, secret); err != nil {
				b.Fatal(err)
			}
			before := f.reg.Requests()
			for b.Loop() {
				if _, err := p.Lookup(b.Context(), cfg, ref.ref, secret); err != nil {
					b.Fatal(err)
				}
			}
			if n := f.reg.Requests() - before; n != 0 {
				b.Fatalf("warm lookups made %d requests", n)
			}
		})
	}
}
