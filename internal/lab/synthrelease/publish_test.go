package synthrelease

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"

	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// testRegistry is an in-memory registry on 127.0.0.1 that counts blob upload
// sessions per repository.
type testRegistry struct {
	host string

	mu      sync.Mutex
	uploads map[string]int // repository → POST …/blobs/uploads/
}

var uploadRE = regexp.MustCompile(`^/v2/(.+)/blobs/uploads/$`)

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{uploads: map[string]int{}}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if m := uploadRE.FindStringSubmatch(req.URL.Path); m != nil && req.Method == http.MethodPost {
			r.mu.Lock()
			r.uploads[m[1]]++
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// mirrored rewrites a canonical reference through the published mirror
// entries, the way a node's runtime would for a digest pull.
func mirrored(t *testing.T, p *Published, canonical string) string {
	t.Helper()
	for _, m := range p.Mirrors {
		if rest, ok := strings.CutPrefix(canonical, m.Source); ok && strings.HasPrefix(rest, "@") {
			return m.Mirrors[0] + rest
		}
	}
	t.Fatalf("no mirror entry covers %s", canonical)
	return ""
}

func fetch(t *testing.T, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("remote.Image(%s): %v", ref, err)
	}
	return img
}

// asAny decodes JSON into generic values, so that two encodings compare by
// content.
func asAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func marshalAny(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return asAny(t, b)
}

func TestPublishParseRoundTrip(t *testing.T) {
	reg := newTestRegistry(t)
	var written map[string][]byte
	opts := PublishOptions{
		Destination:       reg.host + "/mirror",
		Components:        12,
		MultiArchFraction: 0.25,
		Seed:              7,
		EditManifests: func(files map[string][]byte) error {
			written = map[string][]byte{}
			for k, v := range files {
				written[k] = slices.Clone(v)
			}
			return nil
		},
	}
	pub, err := Publish(t.Context(), opts)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}

	// Published, by itself.
	dest := reg.host + "/mirror/"
	if want := release.CanonicalReleaseRepository + ":4.16.3-x86_64"; pub.ReleaseTag != want {
		t.Errorf("ReleaseTag = %s, want %s", pub.ReleaseTag, want)
	}
	if want := dest + "openshift/release-images:4.16.3-x86_64"; pub.MirrorReleaseTag != want {
		t.Errorf("MirrorReleaseTag = %s, want %s", pub.MirrorReleaseTag, want)
	}
	wantMirrors := []MirrorEntry{
		{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{dest + "openshift/release-images"}},
		{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{dest + "openshift/release"}},
	}
	if d := cmp.Diff(wantMirrors, pub.Mirrors); d != "" {
		t.Errorf("Mirrors (-want +got):\n%s", d)
	}
	if got, want := len(pub.Pushed), 12+2; got != want {
		t.Fatalf("len(Pushed) = %d, want %d", got, want)
	}
	indexes := 0
	for _, p := range pub.Pushed {
		if p.Index {
			indexes++
		}
		wantTag := dest + "openshift/release:4.16.3-x86_64-" + p.Name
		switch p.Name {
		case "release":
			wantTag = pub.MirrorReleaseTag
		case "kubevirt":
			wantTag = dest + "openshift/release:4.16.3-x86_64-kubevirt-container"
		}
		if p.Tag != wantTag {
			t.Errorf("%s: Tag = %s, want %s", p.Name, p.Tag, wantTag)
		}
		// The digest form, the tag form and the canonical form through the
		// mirrors all reach the same manifest.
		for _, ref := range []string{p.Digest, p.Tag, mirrored(t, pub, p.Canonical)} {
			r, err := name.ParseReference(ref)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Head(r, remote.WithContext(t.Context()))
			if err != nil {
				t.Errorf("%s: HEAD %s: %v", p.Name, ref, err)
				continue
			}
			_, d, _ := strings.Cut(p.Digest, "@")
			if desc.Digest.String() != d {
				t.Errorf("%s: HEAD %s = %s, want %s", p.Name, ref, desc.Digest, d)
			}
			if got := desc.MediaType == types.DockerManifestList; got != p.Index {
				t.Errorf("%s: media type %s, Index = %v", p.Name, desc.MediaType, p.Index)
			}
		}
	}
	if indexes != 3 {
		t.Errorf("%d multi-arch components, want 3 (25%% of 12)", indexes)
	}
	if pub.Pushed[0].Name != "cluster-version-operator" || pub.Pushed[0].Index {
		t.Errorf("Pushed[0] = %+v, want a single-arch cluster-version-operator", pub.Pushed[0])
	}
	if _, d, _ := strings.Cut(pub.Pushed[0].Digest, "@"); pub.BaseImageDigest != d {
		t.Errorf("BaseImageDigest = %s, want the cluster-version-operator's %s", pub.BaseImageDigest, d)
	}

	// Shared blobs are uploaded once per repository.
	distinct := map[v1.Hash]bool{}
	for _, p := range pub.Pushed[:len(pub.Pushed)-1] {
		r, _ := name.ParseReference(p.Digest)
		desc, err := remote.Get(r, remote.WithContext(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		var imgs []v1.Image
		if p.Index {
			idx, err := desc.ImageIndex()
			if err != nil {
				t.Fatal(err)
			}
			m, _ := idx.IndexManifest()
			for _, c := range m.Manifests {
				img, _ := idx.Image(c.Digest)
				imgs = append(imgs, img)
			}
		} else {
			img, _ := desc.Image()
			imgs = append(imgs, img)
		}
		for _, img := range imgs {
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			distinct[m.Config.Digest] = true
			for _, l := range m.Layers {
				distinct[l.Digest] = true
			}
		}
	}
	if got := reg.uploads["mirror/openshift/release"]; got != len(distinct) {
		t.Errorf("%d blob uploads to the components repository, want %d (one per distinct blob)", got, len(distinct))
	}

	// The release image, read back the way a lookup does.
	img := fetch(t, mirrored(t, pub, pub.Release))
	p, err := release.Parse(img)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p.Version != "4.16.3" || p.ReleaseLabel != "4.16.3" {
		t.Errorf("Version, ReleaseLabel = %q, %q, want 4.16.3", p.Version, p.ReleaseLabel)
	}
	if p.BaseImageDigest != pub.BaseImageDigest {
		t.Errorf("BaseImageDigest = %s, want %s", p.BaseImageDigest, pub.BaseImageDigest)
	}
	layers, _ := img.Layers()
	cvoLayers, _ := fetch(t, pub.Pushed[0].Digest).Layers()
	if len(layers) != len(cvoLayers)+1 {
		t.Errorf("release image has %d layers, want the cluster-version-operator's %d plus one", len(layers), len(cvoLayers))
	}

	var wantComponents []release.Component
	for _, n := range componentNames(12) {
		_, d, _ := strings.Cut(pub.Components[n], "@")
		wantComponents = append(wantComponents, release.Component{Name: n, Image: pub.Components[n], Digest: d})
	}
	if d := cmp.Diff(wantComponents, p.Components); d != "" {
		t.Errorf("Components (-want +got):\n%s", d)
	}
	if len(p.Unpinned) != 0 {
		t.Errorf("Unpinned = %v, want none", p.Unpinned)
	}
	for _, c := range p.Components {
		if !strings.HasPrefix(c.Image, release.CanonicalComponentRepository+"@sha256:") {
			t.Errorf("component %s: image %s does not name the canonical repository", c.Name, c.Image)
		}
	}
	for _, tag := range p.ImageReferences.Spec.Tags {
		if tag.Name == "hyperkube" && !regexp.MustCompile(`^kubernetes=1\.29\.\d+$`).MatchString(tag.Annotations[release.AnnotationVersions]) {
			t.Errorf("hyperkube %s = %q, want kubernetes=1.29.z", release.AnnotationVersions, tag.Annotations[release.AnnotationVersions])
		}
	}

	wantMeta := &release.Metadata{
		Kind:     release.MetadataKind,
		Version:  "4.16.3",
		Previous: []string{"4.16.0", "4.16.1", "4.16.2"},
		Metadata: map[string]string{
			release.MetadataChannelsKey: "candidate-4.16,fast-4.16,stable-4.16",
			release.MetadataURLKey:      "https://errata.example.com/synthetic/4.16.3",
		},
	}
	if d := cmp.Diff(wantMeta, p.Metadata); d != "" {
		t.Errorf("Metadata (-want +got):\n%s", d)
	}

	if p.BootImages == nil || p.Stream == nil {
		t.Fatalf("BootImages, Stream = %v, %v, want both", p.BootImages, p.Stream)
	}
	if p.BootImages.Metadata.Namespace != release.BootImagesNamespace || p.BootImages.Data.ReleaseVersion != "4.16.3" {
		t.Errorf("BootImages = %+v, want namespace %s, releaseVersion 4.16.3", p.BootImages, release.BootImagesNamespace)
	}
	kv := p.Stream.Architectures["x86_64"].Images.KubeVirt
	if kv == nil || kv.DigestRef != pub.KubeVirt {
		t.Errorf("kubevirt image = %+v, want digest-ref %s", kv, pub.KubeVirt)
	}
	if p.Stream.Architectures["x86_64"].Artifacts["qemu"].Formats["qcow2.gz"]["disk"].SHA256 == "" {
		t.Errorf("qemu artifact has no sha256: %+v", p.Stream.Architectures["x86_64"].Artifacts)
	}
	if _, err := remote.Head(mustRef(t, mirrored(t, pub, kv.DigestRef))); err != nil {
		t.Errorf("kubevirt digest-ref through mirrors: %v", err)
	}

	// Nothing written is lost in decoding: the parsed types re-encode to the
	// files that were published.
	if d := cmp.Diff(asAny(t, written[release.ImageReferencesFile]), marshalAny(t, p.ImageReferences)); d != "" {
		t.Errorf("image-references round trip (-written +parsed):\n%s", d)
	}
	if d := cmp.Diff(asAny(t, written[release.MetadataFile]), marshalAny(t, p.Metadata)); d != "" {
		t.Errorf("release-metadata round trip (-written +parsed):\n%s", d)
	}
	cmJSON, err := yaml.YAMLToJSON(written[release.BootImagesFile])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(asAny(t, cmJSON), marshalAny(t, p.BootImages)); d != "" {
		t.Errorf("bootimages round trip (-written +parsed):\n%s", d)
	}
	if d := cmp.Diff(asAny(t, []byte(p.BootImages.Data.Stream)), marshalAny(t, p.Stream)); d != "" {
		t.Errorf("stream round trip (-written +parsed):\n%s", d)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPublishDeterministic(t *testing.T) {
	reg := newTestRegistry(t)
	publish := func(seed int64, prefix string) *Published {
		t.Helper()
		pub, err := Publish(t.Context(), PublishOptions{Destination: reg.host + "/" + prefix, Components: 8, MultiArchFraction: 0.3, Seed: seed})
		if err != nil {
			t.Fatalf("Publish(seed %d): %v", seed, err)
		}
		return pub
	}
	a, b, other := publish(42, "a"), publish(42, "b"), publish(43, "c")
	// The destination is not part of the content: the same seed gives the
	// same canonical references wherever it is pushed.
	if a.Release != b.Release {
		t.Errorf("same seed: releases %s and %s differ", a.Release, b.Release)
	}
	if d := cmp.Diff(a.Components, b.Components); d != "" {
		t.Errorf("same seed: components differ (-a +b):\n%s", d)
	}
	if a.KubeVirt != b.KubeVirt {
		t.Errorf("same seed: kubevirt %s and %s differ", a.KubeVirt, b.KubeVirt)
	}
	if a.Release == other.Release {
		t.Errorf("seeds 42 and 43 gave the same release %s", a.Release)
	}
	for n, ref := range a.Components {
		if other.Components[n] == ref {
			t.Errorf("seeds 42 and 43 gave component %s the same image %s", n, ref)
		}
	}
}

func TestParseUnpinnedComponent(t *testing.T) {
	reg := newTestRegistry(t)
	tagged := release.CanonicalComponentRepository + ":4.16-etcd"
	short := release.CanonicalComponentRepository + "@sha256:1234"
	pub, err := Publish(t.Context(), PublishOptions{
		Destination: reg.host,
		Components:  4,
		EditManifests: func(files map[string][]byte) error {
			var refs release.ImageReferences
			if err := json.Unmarshal(files[release.ImageReferencesFile], &refs); err != nil {
				return err
			}
			refs.Spec.Tags[2].From.Name = tagged // etcd
			refs.Spec.Tags[3].From.Name = short  // cli
			b, err := json.Marshal(refs)
			files[release.ImageReferencesFile] = b
			return err
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	p, err := release.Parse(fetch(t, pub.MirrorRelease))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []release.Component{{Name: "etcd", Image: tagged}, {Name: "cli", Image: short}}
	if d := cmp.Diff(want, p.Unpinned); d != "" {
		t.Errorf("Unpinned (-want +got):\n%s", d)
	}
	if len(p.Components) != 4 || p.Components[2] != want[0] || p.Components[0].Digest == "" {
		t.Errorf("Components = %+v, want all four, etcd unpinned and the others pinned", p.Components)
	}
}

func TestParseMissingImageReferences(t *testing.T) {
	reg := newTestRegistry(t)
	pub, err := Publish(t.Context(), PublishOptions{
		Destination: reg.host,
		Components:  2,
		EditManifests: func(files map[string][]byte) error {
			delete(files, release.ImageReferencesFile)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	_, err = release.Parse(fetch(t, pub.MirrorRelease))
	if !errors.Is(err, release.ErrNoImageReferences) {
		t.Fatalf("Parse = %v, want ErrNoImageReferences", err)
	}
	if !strings.Contains(err.Error(), release.ImageReferencesFile) || !strings.Contains(err.Error(), "layer sha256:") {
		t.Errorf("Parse error %q does not name the file and the layer", err)
	}

	// The cluster-version-operator image, which release images are built
	// on, is not itself a release.
	if _, err := release.Parse(fetch(t, pub.Pushed[0].Digest)); !errors.Is(err, release.ErrNoImageReferences) {
		t.Errorf("Parse(cluster-version-operator) = %v, want ErrNoImageReferences", err)
	}
}

func TestParseReadsOnlyLastLayer(t *testing.T) {
	c, err := PublishOptions{Destination: "127.0.0.1:1", Components: 2}.config()
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.build()
	if err != nil {
		t.Fatal(err)
	}
	relImg := r.images[len(r.images)-1].taggable.(v1.Image)
	if _, err := release.Parse(relImg); err != nil {
		t.Fatalf("Parse(release) = %v", err)
	}
	layers, err := relImg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	extra, err := newLayer(map[string][]byte{"usr/bin/other": []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	onTop, err := newImage(append(layers, extra), "amd64", v1.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := release.Parse(onTop); !errors.Is(err, release.ErrNoImageReferences) {
		t.Errorf("Parse(release + one more layer) = %v, want ErrNoImageReferences", err)
	}
	empty, err := newImage(nil, "amd64", v1.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := release.Parse(empty); !errors.Is(err, release.ErrNoImageReferences) {
		t.Errorf("Parse(no layers) = %v, want ErrNoImageReferences", err)
	}
}

func TestPublishOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts PublishOptions
		want string
	}{
		{"no destination", PublishOptions{}, "destination: empty"},
		{"bad destination", PublishOptions{Destination: "Bad Host"}, "components repository"},
		{"scheme", PublishOptions{Destination: "https://mirror.example.com:5000"}, `destination "https://mirror.example.com:5000" takes HOST[:PORT][/PATH], without a scheme`},
		{"bad version", PublishOptions{Destination: "127.0.0.1:1", Version: "4.16"}, `version "4.16"`},
		{"multi", PublishOptions{Destination: "127.0.0.1:1", Arch: "multi"}, `arch "multi"`},
		{"unknown arch", PublishOptions{Destination: "127.0.0.1:1", Arch: "amd64"}, `arch "amd64"`},
		{"negative components", PublishOptions{Destination: "127.0.0.1:1", Components: -1}, "components -1"},
		{"fraction", PublishOptions{Destination: "127.0.0.1:1", MultiArchFraction: 2}, "multi-arch fraction 2"},
		{"long tag", PublishOptions{Destination: "127.0.0.1:1", Version: "4.16.3-" + strings.Repeat("x", 120), Components: 1}, "not a valid tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Publish(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Publish = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPublishDefaults(t *testing.T) {
	c, err := PublishOptions{Destination: "127.0.0.1:1", MultiArchFraction: -1}.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Components != 190 || c.multiArch != 0 || c.Version != DefaultVersion || c.Arch != "x86_64" || c.platform != "amd64" {
		t.Errorf("config = %+v, want 190 single-arch components of 4.16.3-x86_64", c)
	}
	c, err = PublishOptions{Destination: "127.0.0.1:1"}.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.multiArch != 10 {
		t.Errorf("default multi-arch components = %d, want 10 (5%% of 190, rounded)", c.multiArch)
	}
}

func TestPublishCancelled(t *testing.T) {
	reg := newTestRegistry(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Publish(ctx, PublishOptions{Destination: reg.host, Components: 3}); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish(cancelled) = %v, want context.Canceled", err)
	}
}

// TestPublishFullSize publishes a release of realistic size (190
// components, the count of a real 4.16 payload) and logs how long it took:
// every end-to-end test of a disconnected install starts with one. It runs
// under -race too, as make test runs it; small layers keep it affordable
// there, since the time goes to requests, not bytes.
func TestPublishFullSize(t *testing.T) {
	reg := newTestRegistry(t)
	start := time.Now()
	var calls, last, total int
	pub, err := Publish(t.Context(), PublishOptions{
		Destination: reg.host,
		LayerSize:   64,
		Progress: func(done, n int) {
			calls++
			if done != last+1 {
				t.Errorf("progress %d after %d", done, last)
			}
			last, total = done, n
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	t.Logf("published %d images in %v", len(pub.Pushed), time.Since(start))
	if calls != len(pub.Pushed) || last != len(pub.Pushed) || total != len(pub.Pushed) {
		t.Errorf("progress called %d times, last %d/%d; want %d calls ending %d/%d", calls, last, total, len(pub.Pushed), len(pub.Pushed), len(pub.Pushed))
	}
	p, err := release.Parse(fetch(t, pub.MirrorRelease))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(p.Components) != DefaultComponentCount {
		t.Errorf("%d components, want %d", len(p.Components), DefaultComponentCount)
	}
	indexes := 0
	for _, img := range pub.Pushed {
		if img.Index {
			indexes++
		}
	}
	if indexes != 10 {
		t.Errorf("%d multi-arch components, want 10 (5%% of 190)", indexes)
	}
}

func TestParseTarSpellings(t *testing.T) {
	refs := `{"kind":"ImageStream","metadata":{"name":"4.17.0"},"spec":{"tags":[]}}`
	for _, p := range []string{"./" + release.ImageReferencesFile, "/" + release.ImageReferencesFile, "release-manifests//image-references"} {
		l, err := newLayer(map[string][]byte{p: []byte(refs), "./release-manifests/other.yaml": []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		img, err := newImage([]v1.Layer{l}, "amd64", v1.Config{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := release.Parse(img)
		if err != nil {
			t.Errorf("Parse(layer with %q) = %v", p, err)
			continue
		}
		if got.Version != "4.17.0" || got.Metadata != nil || got.BootImages != nil {
			t.Errorf("Parse(layer with %q) = %+v, want version 4.17.0 and nothing else", p, got)
		}
	}
}
