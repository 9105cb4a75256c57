package releaseinfo

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// TestLookupThroughMirror reads a release whose source must never be
// dialled: the mirror serves, so the source (allowed, but unreachable) gets
// no connection at all, and every field of the answer is canonical except
// ServedBy.
func TestLookupThroughMirror(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, "", mirror.Addr), nil)

	p := newProvider(t, trust(mirror))
	rel, err := p.Lookup(t.Context(), cfg, pub.release, nil)
	if err != nil {
		t.Fatalf("Lookup() = %v", err)
	}
	if rel.Image != pub.release {
		t.Errorf("Image = %s, want the canonical %s", rel.Image, pub.release)
	}
	if want := mirror.Addr + "/" + synthrelease.DefaultReleaseRepo + "@" + digestOf(pub.release); rel.ServedBy != want {
		t.Errorf("ServedBy = %s, want %s", rel.ServedBy, want)
	}
	if rel.Digest != digestOf(pub.release) || rel.PlatformDigest != rel.Digest {
		t.Errorf("Digest, PlatformDigest = %s, %s; want both %s", rel.Digest, rel.PlatformDigest, digestOf(pub.release))
	}
	if rel.Version != synthrelease.DefaultVersion {
		t.Errorf("Version = %q, want %q", rel.Version, synthrelease.DefaultVersion)
	}
	if diff := cmp.Diff(pub.components, rel.Components); diff != "" {
		t.Errorf("Components (-want +got):\n%s", diff)
	}
	if rel.KubeVirt != pub.kubeVirt {
		t.Errorf("KubeVirt = %q, want %q", rel.KubeVirt, pub.kubeVirt)
	}
	if rel.Platform != "linux/amd64" || !slices.Equal(rel.Architectures, []string{"linux/amd64"}) {
		t.Errorf("Platform, Architectures = %q, %q; want linux/amd64", rel.Platform, rel.Architectures)
	}
	if rel.Created.IsZero() {
		t.Error("Created is zero")
	}
	if rel.Metadata == nil {
		t.Fatal("Metadata is nil")
	}
	if want := []string{"candidate-4.16", "fast-4.16", "stable-4.16"}; !slices.Equal(rel.Metadata.Channels, want) {
		t.Errorf("Metadata.Channels = %q, want %q", rel.Metadata.Channels, want)
	}
	if want := []string{"4.16.0", "4.16.1", "4.16.2"}; !slices.Equal(rel.Metadata.Previous, want) {
		t.Errorf("Metadata.Previous = %q, want %q", rel.Metadata.Previous, want)
	}
	if !strings.HasPrefix(rel.ComponentVersions["kubernetes"], "1.29.") {
		t.Errorf("ComponentVersions = %v, want kubernetes 1.29.x", rel.ComponentVersions)
	}
	if rel.ComponentVersionNames["kubernetes"] != "Kubernetes" {
		t.Errorf("ComponentVersionNames = %v, want kubernetes → Kubernetes", rel.ComponentVersionNames)
	}
	if c := rel.Commits["etcd"]; len(c.ID) != 40 || c.SourceLocation != "https://github.com/openshift/etcd" {
		t.Errorf("Commits[etcd] = %+v, want a 40-digit commit from github.com/openshift/etcd", c)
	}
	if rel.Stream == nil || rel.BootImages == nil {
		t.Error("boot images missing")
	}
	if len(rel.Unpinned) != 0 || len(rel.Warnings) != 0 {
		t.Errorf("Unpinned, Warnings = %q, %q; want none", rel.Unpinned, rel.Warnings)
	}
}

// TestLookupFallsThrough puts a broken mirror before a good one: whatever
// is wrong with the first, the second serves, and the source is never
// needed.
func TestLookupFallsThrough(t *testing.T) {
	tests := []struct {
		name string
		// fault returns the middleware for the first mirror, given the
		// publication (nil: the first mirror is down altogether).
		fault func(p *published) testreg.Middleware
		// empty means the first mirror holds nothing at all.
		empty bool
		// wantFirst means the first mirror ends up serving (it recovered).
		wantFirst bool
	}{
		{name: "mirror down"},
		{name: "mirror lacks the release", empty: true,
			fault: func(*published) testreg.Middleware { return nil }},
		{name: "server errors", fault: func(*published) testreg.Middleware {
			return testreg.When(testreg.ManifestRequests, testreg.Respond(-1, http.StatusServiceUnavailable, nil))
		}},
		{name: "unauthorized", fault: func(*published) testreg.Middleware {
			return testreg.When(testreg.ManifestRequests, testreg.Respond(-1, http.StatusUnauthorized, nil))
		}},
		{name: "payload layer missing", fault: func(*published) testreg.Middleware {
			return testreg.When(testreg.BlobRequests, testreg.Respond(-1, http.StatusNotFound, nil))
		}},
		{name: "digest mismatch", fault: func(p *published) testreg.Middleware {
			// Serve another manifest under the release's digest.
			d := digestOf(p.release)
			other := "/manifests/" + synthrelease.DefaultVersion + "-" + synthrelease.DefaultArch + "-etcd"
			return func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "/manifests/"+d) {
						r.URL.Path = "/v2/" + synthrelease.DefaultComponentsRepo + other
					}
					next.ServeHTTP(w, r)
				})
			}
		}},
		{name: "rate limited once", wantFirst: true, fault: func(*published) testreg.Middleware {
			return testreg.When(testreg.ManifestRequests, testreg.Respond(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"0"}}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := testreg.Unreachable(t)
			good := testreg.Start(t)
			var first string
			var sw testreg.Switch
			regs := []*testreg.Registry{good}
			if tt.fault != nil {
				reg := testreg.Start(t, testreg.WithHandler(sw.Wrap))
				first = reg.Addr
				if !tt.empty {
					regs = append(regs, reg)
				}
			} else {
				first = closedAddr(t)
			}
			pub := publish(t, source, publishOpts{}, regs...)
			if tt.fault != nil {
				sw.Set(tt.fault(pub))
			}
			cfg := compile(t, releaseMirrors(pub, mirrorset.AllowContactingSource, first, good.Addr), nil)

			rel, err := newProvider(t, trust(first, good)).Lookup(t.Context(), cfg, pub.release, nil)
			if err != nil {
				t.Fatalf("Lookup() = %v", err)
			}
			wantHost := good.Addr
			if tt.wantFirst {
				wantHost = first
			}
			if !strings.HasPrefix(rel.ServedBy, wantHost+"/") {
				t.Errorf("ServedBy = %s, want a reference on %s", rel.ServedBy, wantHost)
			}
			if rel.Image != pub.release || rel.Version != synthrelease.DefaultVersion {
				t.Errorf("Image, Version = %s, %s; want %s, %s", rel.Image, rel.Version, pub.release, synthrelease.DefaultVersion)
			}
		})
	}
}

// TestLookupSourceAsLastResort: without NeverContactSource, a source that
// holds the release serves it when every mirror fails, as on a node.
func TestLookupSourceAsLastResort(t *testing.T) {
	src := testreg.Start(t)
	// The source holds the release under its canonical paths.
	pub := publishAtSource(t, src)
	down := closedAddr(t)
	cfg := compile(t, releaseMirrors(pub, "", down), nil)
	rel, err := newProvider(t, trust(src, down)).Lookup(t.Context(), cfg, pub.release, nil)
	if err != nil {
		t.Fatalf("Lookup() = %v", err)
	}
	if rel.ServedBy != pub.release {
		t.Errorf("ServedBy = %s, want the source %s", rel.ServedBy, pub.release)
	}
}

// publishAtSource pushes a release to reg under the canonical repository
// paths, so reg plays quay.io itself.
func publishAtSource(t *testing.T, reg *testreg.Registry) *published {
	t.Helper()
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination:    reg.Addr,
		Components:     testComponents,
		ComponentsRepo: strings.TrimPrefix(componentPath, "/"),
		ReleaseRepo:    strings.TrimPrefix(releasePath, "/"),
		EditManifests: func(files map[string][]byte) error {
			for _, f := range []string{release.ImageReferencesFile, release.BootImagesFile} {
				files[f] = []byte(strings.ReplaceAll(string(files[f]), "quay.io/", reg.Addr+"/"))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &published{Published: pub, source: reg.Addr}
	p.release = p.rename(pub.Release)
	p.releaseTag = p.rename(pub.ReleaseTag)
	return p
}

// TestLookupNeverContactsBlockedSource: with NeverContactSource the source
// is not tried even when every mirror fails, and the error names each
// mirror's reference and failure kind.
func TestLookupNeverContactsBlockedSource(t *testing.T) {
	source := testreg.Unreachable(t)
	empty := testreg.Start(t)
	down := closedAddr(t)
	pub := &published{source: source}
	// The digest of a release nobody has: only names matter here.
	pub.release = pub.releaseRepo() + "@sha256:" + strings.Repeat("ab", 32)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, down, empty.Addr), nil)

	_, err := newProvider(t, trust(down, empty)).Lookup(t.Context(), cfg, pub.release, nil)
	var se *registry.SourcesError
	if !errors.As(err, &se) {
		t.Fatalf("Lookup() = %v, want a *registry.SourcesError", err)
	}
	type attempt struct {
		Ref  string
		Kind registry.Kind
	}
	var got []attempt
	for _, a := range se.Attempts {
		got = append(got, attempt{a.Reference, a.Kind})
	}
	d := digestOf(pub.release)
	want := []attempt{
		{down + "/" + synthrelease.DefaultReleaseRepo + "@" + d, registry.Unreachable},
		{empty.Addr + "/" + synthrelease.DefaultReleaseRepo + "@" + d, registry.NotFound},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	for _, s := range []string{pub.release, want[0].Ref + ": unreachable", want[1].Ref + ": not found"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// TestLookupUnpullable: a tag reference whose source is NeverContactSource
// with digest mirrors only has no pull source; nothing is contacted.
func TestLookupUnpullable(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := &published{source: source}
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	_, err := newProvider(t, trust(mirror)).Lookup(t.Context(), cfg, pub.releaseRepo()+":4.16.3-x86_64", nil)
	var ue *UnpullableError
	if !errors.As(err, &ue) {
		t.Fatalf("Lookup() = %v, want an *UnpullableError", err)
	}
	if ue.Source != pub.releaseRepo() {
		t.Errorf("UnpullableError.Source = %q, want %q", ue.Source, pub.releaseRepo())
	}
	if n := mirror.Requests(); n != 0 {
		t.Errorf("mirror got %d requests, want 0", n)
	}
}

// TestLookupTagAndDigest checks which mirror kinds serve which reference.
func TestLookupTagAndDigest(t *testing.T) {
	source := testreg.Unreachable(t)
	digestMirror := testreg.Start(t)
	tagMirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, digestMirror, tagMirror)
	idms := releaseMirrors(pub, mirrorset.NeverContactSource, digestMirror.Addr)
	itms := []entry{{source: pub.releaseRepo(), mirrors: []string{tagMirror.Addr + "/" + synthrelease.DefaultReleaseRepo}, policy: mirrorset.NeverContactSource}}
	cfg := compile(t, idms, itms)
	p := newProvider(t, trust(digestMirror, tagMirror))
	tagBefore, digestBefore := manifestGets(tagMirror, synthrelease.DefaultReleaseRepo), manifestGets(digestMirror, synthrelease.DefaultReleaseRepo)

	byTag, err := p.Lookup(t.Context(), cfg, pub.releaseTag, nil)
	if err != nil {
		t.Fatalf("Lookup(tag) = %v", err)
	}
	if want := tagMirror.Addr + "/" + synthrelease.DefaultReleaseRepo + ":" + synthrelease.DefaultVersion + "-" + synthrelease.DefaultArch; byTag.ServedBy != want {
		t.Errorf("tag: ServedBy = %s, want the tag mirror %s", byTag.ServedBy, want)
	}
	if byTag.Image != pub.release || byTag.Reference != pub.releaseTag {
		t.Errorf("tag: Image, Reference = %s, %s; want %s, %s", byTag.Image, byTag.Reference, pub.release, pub.releaseTag)
	}

	byDigest, err := p.Lookup(t.Context(), cfg, pub.release, nil)
	if err != nil {
		t.Fatalf("Lookup(digest) = %v", err)
	}
	if !strings.HasPrefix(byDigest.ServedBy, digestMirror.Addr+"/") {
		t.Errorf("digest: ServedBy = %s, want the digest mirror", byDigest.ServedBy)
	}
	tagN := manifestGets(tagMirror, synthrelease.DefaultReleaseRepo) - tagBefore
	digestN := manifestGets(digestMirror, synthrelease.DefaultReleaseRepo) - digestBefore
	if tagN != 1 || digestN != 1 {
		t.Errorf("manifest requests: tag mirror %d, digest mirror %d; want 1 each", tagN, digestN)
	}
}

// TestLookupAuth: credentials come from the pull secret, per mirror host;
// without them the mirror's refusal is reported, never the password.
func TestLookupAuth(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t, testreg.WithBasicAuth("puller", "s3cret-pass"))
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	p := newProvider(t, trust(mirror))

	for _, tt := range []struct {
		name   string
		secret []byte
	}{
		{"no pull secret", nil},
		{"wrong password", pullSecret(t, mirror.Addr, "puller", "wrong-pass")},
		{"secret for another host", pullSecret(t, "mirror.example.com", "puller", "s3cret-pass")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Lookup(t.Context(), cfg, pub.release, tt.secret)
			var re *registry.Error
			if !errors.As(err, &re) || re.Kind != registry.Unauthorized {
				t.Fatalf("Lookup() = %v, want an unauthorized *registry.Error", err)
			}
			for _, s := range []string{"s3cret-pass", "wrong-pass"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows a password", err)
				}
			}
		})
	}
	t.Run("right pull secret", func(t *testing.T) {
		rel, err := p.Lookup(t.Context(), cfg, pub.release, pullSecret(t, mirror.Addr, "puller", "s3cret-pass"))
		if err != nil {
			t.Fatalf("Lookup() = %v", err)
		}
		if rel.Image != pub.release {
			t.Errorf("Image = %s, want %s", rel.Image, pub.release)
		}
	})
}

// TestLookupTLS: a mirror with its own CA is trusted only when the CA is
// given (or the mirror is listed as insecure).
func TestLookupTLS(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t, testreg.WithTLS())
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)

	_, err := newProvider(t).Lookup(t.Context(), cfg, pub.release, nil)
	var re *registry.Error
	if !errors.As(err, &re) || re.Kind != registry.TLS {
		t.Errorf("without the CA: Lookup() = %v, want a tls *registry.Error", err)
	}
	for _, opt := range []registry.Option{registry.WithCAFile(mirror.CAFile), registry.WithInsecureRegistry(mirror.Addr)} {
		rel, err := newProvider(t, WithRegistryOptions(opt)).Lookup(t.Context(), cfg, pub.release, nil)
		if err != nil {
			t.Errorf("Lookup() = %v", err)
			continue
		}
		if rel.Image != pub.release {
			t.Errorf("Image = %s, want %s", rel.Image, pub.release)
		}
	}
}

// TestLookupCache: a warm lookup makes no request; the pull secret and the
// TTL are part of the decision.
func TestLookupCache(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t, testreg.WithBasicAuth("puller", "s3cret-pass"))
	pub := publish(t, source, publishOpts{}, mirror)
	idms := releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr)
	itms := []entry{{source: pub.releaseRepo(), mirrors: []string{mirror.Addr + "/" + synthrelease.DefaultReleaseRepo}, policy: mirrorset.NeverContactSource}}
	cfg := compile(t, idms, itms)
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	down := closedAddr(t)
	p := newProvider(t, trust(mirror, down), WithClock(clock.Now), WithTTL(time.Minute), WithDigestTTL(time.Hour))
	good := pullSecret(t, mirror.Addr, "puller", "s3cret-pass")

	first, err := p.Lookup(t.Context(), cfg, pub.release, good)
	if err != nil {
		t.Fatalf("Lookup() = %v", err)
	}
	before := mirror.Requests()
	again, err := p.Lookup(t.Context(), cfg, pub.release, good)
	if err != nil {
		t.Fatalf("second Lookup() = %v", err)
	}
	if again != first {
		t.Error("second lookup returned a different *Release, want the cached one")
	}
	if n := mirror.Requests() - before; n != 0 {
		t.Errorf("cached lookup made %d requests, want 0", n)
	}

	// Another pull secret is another cache entry: wrong credentials must
	// not read an answer fetched with the right ones.
	if _, err := p.Lookup(t.Context(), cfg, pub.release, pullSecret(t, mirror.Addr, "puller", "wrong")); err == nil {
		t.Error("lookup with a wrong pull secret was answered from the cache")
	}
	if _, err := p.Lookup(t.Context(), cfg, pub.release, nil); err == nil {
		t.Error("lookup without a pull secret was answered from the cache")
	}

	// Other mirror sets that move the image are another key too.
	moved := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, down), nil)
	if _, err := p.Lookup(t.Context(), moved, pub.release, good); err == nil {
		t.Error("lookup through a mirror that is down was answered from the cache")
	}

	// Tags expire after the TTL; digests do not.
	if _, err := p.Lookup(t.Context(), cfg, pub.releaseTag, good); err != nil {
		t.Fatalf("Lookup(tag) = %v", err)
	}
	clock.Advance(2 * time.Minute)
	before = mirror.Requests()
	if _, err := p.Lookup(t.Context(), cfg, pub.release, good); err != nil {
		t.Fatal(err)
	}
	if n := mirror.Requests() - before; n != 0 {
		t.Errorf("digest lookup after the tag TTL made %d requests, want 0 (cached)", n)
	}
	if _, err := p.Lookup(t.Context(), cfg, pub.releaseTag, good); err != nil {
		t.Fatal(err)
	}
	if n := mirror.Requests() - before; n == 0 {
		t.Error("tag lookup after its TTL made no request, want a refresh")
	}
	clock.Advance(2 * time.Hour)
	before = mirror.Requests()
	if _, err := p.Lookup(t.Context(), cfg, pub.release, good); err != nil {
		t.Fatal(err)
	}
	if n := mirror.Requests() - before; n == 0 {
		t.Error("digest lookup after the digest TTL made no request, want a refresh")
	}
}

// TestLookupCacheBounded: the least recently used release is evicted.
func TestLookupCacheBounded(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	pub2 := publish(t, source, publishOpts{seed: 2}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	p := newProvider(t, trust(mirror), WithCacheSize(1))
	for _, ref := range []string{pub.release, pub2.release} {
		if _, err := p.Lookup(t.Context(), cfg, ref, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.releases.len(); n != 1 {
		t.Errorf("cache holds %d releases, want 1", n)
	}
	before := mirror.Requests()
	if _, err := p.Lookup(t.Context(), cfg, pub2.release, nil); err != nil {
		t.Fatal(err)
	}
	if n := mirror.Requests() - before; n != 0 {
		t.Errorf("most recent release: %d requests, want 0", n)
	}
	if _, err := p.Lookup(t.Context(), cfg, pub.release, nil); err != nil {
		t.Fatal(err)
	}
	if n := mirror.Requests() - before; n == 0 {
		t.Error("evicted release was answered without a request")
	}
}

// TestLookupSingleflight: N concurrent cold lookups fetch once.
func TestLookupSingleflight(t *testing.T) {
	const n = 16
	source := testreg.Unreachable(t)
	var sw testreg.Switch
	mirror := testreg.Start(t, testreg.WithHandler(sw.Wrap))
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	hold := make(chan struct{})
	sw.Set(testreg.When(testreg.ManifestRequests, testreg.Hold(hold)))
	before := manifestGets(mirror, synthrelease.DefaultReleaseRepo)

	p := newProvider(t, trust(mirror))
	pl, err := p.plan("release", cfg, pub.release, nil)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]*Release, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.Lookup(t.Context(), cfg, pub.release, nil)
		}()
	}
	waitFor(t, "every lookup to wait on the fetch", func() bool { return p.flights.waiting(pl.key) == n })
	close(hold)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("lookup %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Errorf("lookup %d got a different *Release", i)
		}
	}
	if got := manifestGets(mirror, synthrelease.DefaultReleaseRepo) - before; got != 1 {
		t.Errorf("%d manifest requests for the release, want 1", got)
	}
}

// TestLookupAbandonedCaller: a caller that gives up does not fail the
// others sharing its fetch, and a fetch everyone abandoned is cancelled.
func TestLookupAbandonedCaller(t *testing.T) {
	source := testreg.Unreachable(t)
	var sw testreg.Switch
	mirror := testreg.Start(t, testreg.WithHandler(sw.Wrap))
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	hold := make(chan struct{})
	sw.Set(testreg.When(testreg.ManifestRequests, testreg.Hold(hold)))
	p := newProvider(t, trust(mirror))
	pl, _ := p.plan("release", cfg, pub.release, nil)

	impatient, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Lookup(impatient, cfg, pub.release, nil)
		errc <- err
	}()
	waitFor(t, "the first lookup to start", func() bool { return p.flights.waiting(pl.key) == 1 })
	type result struct {
		rel *Release
		err error
	}
	patient := make(chan result, 1)
	go func() {
		rel, err := p.Lookup(t.Context(), cfg, pub.release, nil)
		patient <- result{rel, err}
	}()
	waitFor(t, "the second lookup to join", func() bool { return p.flights.waiting(pl.key) == 2 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled lookup = %v, want context.Canceled", err)
	}
	close(hold)
	r := <-patient
	if r.err != nil || r.rel == nil || r.rel.Image != pub.release {
		t.Errorf("patient lookup = %v, %v; want the release", r.rel, r.err)
	}

	// Everyone leaves: the fetch is cancelled and nothing is cached.
	p2 := newProvider(t, trust(mirror))
	hold2 := make(chan struct{})
	sw.Set(testreg.When(testreg.ManifestRequests, testreg.Hold(hold2)))
	defer close(hold2)
	ctx, cancel2 := context.WithCancel(t.Context())
	go func() {
		_, err := p2.Lookup(ctx, cfg, pub.release, nil)
		errc <- err
	}()
	waitFor(t, "the lookup to start", func() bool { return p2.flights.waiting(pl.key) == 1 })
	cancel2()
	<-errc
	waitFor(t, "the abandoned fetch to end", func() bool { return p2.flights.running.Load() == 0 })
	if p2.releases.len() != 0 {
		t.Error("an abandoned fetch was cached")
	}
}

// TestLookupManifestList: a multi-architecture release is read through the
// requested platform's child; Digest stays the list's.
func TestLookupManifestList(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	relRef, err := name.ParseReference(pub.MirrorRelease, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	amd64, err := remote.Image(relRef, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	arm64, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	multiTag := relRef.Context().Tag(synthrelease.DefaultVersion + "-multi")
	if err := remote.WriteIndex(multiTag, idx, remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	canonical := pub.releaseRepo() + "@" + idxDigest.String()
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)

	rel, err := newProvider(t, trust(mirror)).Lookup(t.Context(), cfg, canonical, nil)
	if err != nil {
		t.Fatalf("Lookup() = %v", err)
	}
	if rel.Image != canonical || rel.Digest != idxDigest.String() || rel.PlatformDigest != digestOf(pub.release) {
		t.Errorf("Image, Digest, PlatformDigest = %s, %s, %s; want %s, %s, %s",
			rel.Image, rel.Digest, rel.PlatformDigest, canonical, idxDigest, digestOf(pub.release))
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(rel.Architectures, want) {
		t.Errorf("Architectures = %q, want %q", rel.Architectures, want)
	}
	// The arm64 child is no release image.
	_, err = newProvider(t, trust(mirror), WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"})).Lookup(t.Context(), cfg, canonical, nil)
	if !errors.Is(err, release.ErrNoImageReferences) {
		t.Errorf("arm64 Lookup() = %v, want release.ErrNoImageReferences", err)
	}
	_, err = newProvider(t, trust(mirror), WithPlatform(v1.Platform{OS: "linux", Architecture: "s390x"})).Lookup(t.Context(), cfg, canonical, nil)
	var re *registry.Error
	if !errors.As(err, &re) || re.Kind != registry.NotFound {
		t.Errorf("s390x Lookup() = %v, want not found", err)
	}
}

// TestLookupPayloadProblems: what makes a release unusable, and what only
// warrants a warning.
func TestLookupPayloadProblems(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	drop := func(files ...string) func(map[string][]byte) error {
		return func(m map[string][]byte) error {
			for _, f := range files {
				delete(m, f)
			}
			return nil
		}
	}
	noRefs := publish(t, source, publishOpts{seed: 10, edit: drop(release.ImageReferencesFile)}, mirror)
	noBoot := publish(t, source, publishOpts{seed: 11, edit: drop(release.BootImagesFile, release.MetadataFile)}, mirror)
	cfg := compile(t, releaseMirrors(noRefs, mirrorset.NeverContactSource, mirror.Addr), nil)

	_, err := newProvider(t, trust(mirror)).Lookup(t.Context(), cfg, noRefs.release, nil)
	if !errors.Is(err, release.ErrNoImageReferences) {
		t.Errorf("without image-references: Lookup() = %v, want release.ErrNoImageReferences", err)
	} else if !strings.Contains(err.Error(), mirror.Addr) {
		t.Errorf("error %q does not name the mirror that served the release", err)
	}

	_, err = newProvider(t, trust(mirror), RequireBootImages()).Lookup(t.Context(), cfg, noBoot.release, nil)
	if !errors.Is(err, ErrNoBootImages) {
		t.Errorf("without boot images, RequireBootImages: Lookup() = %v, want ErrNoBootImages", err)
	}
	rel, err := newProvider(t, trust(mirror)).Lookup(t.Context(), cfg, noBoot.release, nil)
	if err != nil {
		t.Fatalf("without boot images: Lookup() = %v", err)
	}
	if rel.KubeVirt != "" || rel.Metadata != nil || len(rel.Warnings) != 2 {
		t.Errorf("KubeVirt, Metadata, Warnings = %q, %v, %q; want empty, nil and two warnings", rel.KubeVirt, rel.Metadata, rel.Warnings)
	}
}

// TestLookupBadReferences: errors that happen before anything is contacted.
func TestLookupBadReferences(t *testing.T) {
	p := newProvider(t)
	cfg := compile(t, []entry{{source: "quay.io/a/b", mirrors: []string{"mirror.local"}}}, nil)
	for _, ref := range []string{"", "quay.io/a/b@sha256:1234", "Quay.io/UPPER/x:1", "quay.io/a/b@sha256:" + strings.Repeat("0", 64)} {
		if _, err := p.Lookup(t.Context(), cfg, ref, nil); err == nil {
			t.Errorf("Lookup(%q) = nil error", ref)
		}
	}
	var rw *mirrorset.RewriteError
	if _, err := p.Lookup(t.Context(), cfg, "quay.io/a/b@sha256:"+strings.Repeat("0", 64), nil); !errors.As(err, &rw) {
		t.Errorf("rewrite onto a bare host: Lookup() = %v, want a *mirrorset.RewriteError", err)
	}
}

func TestParseBuildVersions(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"kubernetes=1.29.5", map[string]string{"kubernetes": "1.29.5"}, false},
		{"kubernetes=1.29.5,kubectl=1.29.5", map[string]string{"kubernetes": "1.29.5", "kubectl": "1.29.5"}, false},
		{" machine-os = 416.94 , ,", map[string]string{"machine-os": "416.94"}, false},
		{"machine-os=Red Hat Enterprise Linux CoreOS", map[string]string{"machine-os": "Red Hat Enterprise Linux CoreOS"}, false},
		{"", map[string]string{}, false},
		{"a=1,broken,=2", map[string]string{"a": "1"}, true},
	}
	for _, tt := range tests {
		got, err := parseBuildVersions(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseBuildVersions(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseBuildVersions(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
