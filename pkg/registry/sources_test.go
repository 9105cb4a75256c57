package registry

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// rewriteManifest serves the manifest at path to instead of the one asked
// for at from: a mirror whose content does not match the digest.
func rewriteManifest(from, to string) testreg.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == from {
				r = r.Clone(r.Context())
				r.URL.Path = to
				r.URL.RawPath = ""
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestFromSources(t *testing.T) {
	t.Parallel()
	const repo = "ocp/release"

	// The image, as mirrored to several registries.
	good := testreg.Start(t)
	img, goodRef := newFixture(t, good).image(repo + ":4.18")
	dgst := goodRef[strings.Index(goodRef, "@")+1:]
	at := func(r *testreg.Registry) string { return r.Ref(repo + "@" + dgst) }

	second := testreg.Start(t)
	newFixture(t, second).pushImage(repo+":4.18", img)

	empty := testreg.Start(t)
	newFixture(t, empty).image("unrelated/repo:1")

	// A mirror that answers the digest with other content.
	liarMW := &testreg.Switch{}
	liar := testreg.Start(t, testreg.WithHandler(liarMW.Wrap))
	_, otherRef := newFixture(t, liar).image(repo + ":other")
	otherDigest := otherRef[strings.Index(otherRef, "@")+1:]
	liarMW.Set(rewriteManifest("/v2/"+repo+"/manifests/"+dgst, "/v2/"+repo+"/manifests/"+otherDigest))

	locked := testreg.Start(t, testreg.WithBasicAuth("u", "p4ssw0rd"))
	newFixture(t, locked).pushImage(repo+":4.18", img)

	down := closedAddr(t) + "/" + repo + "@" + dgst

	insecure := []Option{}
	for _, r := range []*testreg.Registry{good, second, empty, liar, locked} {
		insecure = append(insecure, WithInsecureRegistry(r.Addr))
	}
	insecure = append(insecure, WithInsecureRegistry(down[:strings.Index(down, "/")]))
	c := newClient(t, insecure...)

	tests := []struct {
		name      string
		sources   []string
		wantFrom  string
		wantKinds []Kind // on failure, per attempt
		untouched *testreg.Registry
	}{
		{name: "first mirror serves", sources: []string{at(good), at(second)}, wantFrom: at(good), untouched: second},
		{name: "down mirror is skipped", sources: []string{down, at(good)}, wantFrom: at(good)},
		{name: "mirror without the image is skipped", sources: []string{at(empty), at(good)}, wantFrom: at(good)},
		{name: "digest mismatch is skipped", sources: []string{at(liar), at(good)}, wantFrom: at(good)},
		{name: "unauthorized mirror is skipped", sources: []string{at(locked), at(good)}, wantFrom: at(good)},
		{
			name:      "every source fails",
			sources:   []string{down, at(empty), at(liar), at(locked)},
			wantKinds: []Kind{Unreachable, NotFound, DigestMismatch, Unauthorized},
		},
		{name: "no sources", sources: nil, wantKinds: []Kind{}},
	}
	ops := []struct {
		name string
		run  func(ctx context.Context, sources []string) (string, error)
	}{
		{"Manifest", func(ctx context.Context, s []string) (string, error) {
			m, err := FromSources(ctx, s, c.Manifest)
			if err != nil {
				return "", err
			}
			if m.Digest.String() != dgst {
				t.Errorf("served digest %s, want %s", m.Digest, dgst)
			}
			return m.Reference, nil
		}},
		{"Head", func(ctx context.Context, s []string) (string, error) {
			d, err := FromSources(ctx, s, c.Head)
			return d.Reference, err
		}},
		{"Image", func(ctx context.Context, s []string) (string, error) {
			i, err := FromSources(ctx, s, imageFor(c, v1.Platform{}))
			if err != nil {
				return "", err
			}
			if _, err := i.RawConfigFile(); err != nil {
				t.Errorf("reading config from %s: %v", i.Reference, err)
			}
			return i.Reference, nil
		}},
	}
	for _, tc := range tests {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				var before int
				if tc.untouched != nil {
					before = tc.untouched.Requests()
				}
				from, err := op.run(t.Context(), tc.sources)
				if tc.wantKinds == nil {
					if err != nil {
						t.Fatalf("%s(%v) = %v", op.name, tc.sources, err)
					}
					if from != tc.wantFrom {
						t.Errorf("served by %s, want %s", from, tc.wantFrom)
					}
					if tc.untouched != nil && tc.untouched.Requests() != before {
						t.Errorf("%s was contacted after an earlier source served", tc.untouched.Addr)
					}
					return
				}
				var se *SourcesError
				if !errors.As(err, &se) {
					t.Fatalf("%s(%v) = %v, want *SourcesError", op.name, tc.sources, err)
				}
				var kinds []Kind
				for i, a := range se.Attempts {
					kinds = append(kinds, a.Kind)
					if a.Reference != tc.sources[i] {
						t.Errorf("attempt %d reference = %s, want %s", i, a.Reference, tc.sources[i])
					}
					if !strings.Contains(err.Error(), tc.sources[i]+": "+a.Kind.String()) {
						t.Errorf("error %q does not list %s with its kind", err, tc.sources[i])
					}
				}
				if !slices.Equal(kinds, tc.wantKinds) && len(kinds)+len(tc.wantKinds) > 0 {
					t.Errorf("attempt kinds = %v, want %v", kinds, tc.wantKinds)
				}
			})
		}
	}
}

func TestSourceNeverContacted(t *testing.T) {
	t.Parallel()
	mirror := testreg.Start(t, testreg.WithTLS())
	_, mirrorRef := newFixture(t, mirror).image("ocp/release:4.18")
	dgst := mirrorRef[strings.Index(mirrorRef, "@")+1:]
	empty := testreg.Start(t, testreg.WithTLS())

	// The source fails the test at cleanup if anything dials it.
	source := testreg.Unreachable(t) + "/openshift-release-dev/ocp-release@" + dgst
	c := newClient(t, WithCAFile(mirror.CAFile), WithCAFile(empty.CAFile))

	sources := []string{empty.Ref("ocp/release@" + dgst), mirrorRef, source}
	img, err := FromSources(t.Context(), sources, imageFor(c, v1.Platform{}))
	if err != nil {
		t.Fatalf("FromSources(Image) = %v", err)
	}
	if img.Reference != mirrorRef {
		t.Errorf("served by %s, want %s", img.Reference, mirrorRef)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAllClose(rc); err != nil {
			t.Fatalf("reading layer: %v", err)
		}
	}
	if mirror.Connections() == 0 || empty.Connections() == 0 {
		t.Errorf("connections: mirror %d, empty mirror %d; want both contacted", mirror.Connections(), empty.Connections())
	}
}

func TestSourceIsLastResort(t *testing.T) {
	t.Parallel()
	// When every mirror fails the source is tried, and serves.
	source := testreg.Start(t)
	_, ref := newFixture(t, source).image("ocp/release:4.18")
	dgst := ref[strings.Index(ref, "@")+1:]
	empty := testreg.Start(t)
	c := newClient(t, WithInsecureRegistry(source.Addr), WithInsecureRegistry(empty.Addr))
	m, err := FromSources(t.Context(), []string{empty.Ref("ocp/release@" + dgst), ref}, c.Manifest)
	if err != nil {
		t.Fatalf("FromSources(Manifest) = %v", err)
	}
	if m.Reference != ref {
		t.Errorf("served by %s, want the source %s", m.Reference, ref)
	}
}

func TestDigestMismatch(t *testing.T) {
	t.Parallel()
	mw := &testreg.Switch{}
	reg := testreg.Start(t, testreg.WithHandler(mw.Wrap))
	f := newFixture(t, reg)
	_, ref := f.image("a/b:1")
	_, other := f.image("a/b:2")
	d, o := ref[strings.Index(ref, "@")+1:], other[strings.Index(other, "@")+1:]
	mw.Set(rewriteManifest("/v2/a/b/manifests/"+d, "/v2/a/b/manifests/"+o))
	c := newClient(t, WithInsecureRegistry(reg.Addr))

	_, err := c.Manifest(t.Context(), ref)
	if k, ok := kindOf(err); !ok || k != DigestMismatch {
		t.Fatalf("Manifest(%s) = %v, want kind DigestMismatch", ref, err)
	}
	if !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("error %q does not name the reference and the kind", err)
	}
	// By tag there is nothing to check against.
	if _, err := c.Manifest(t.Context(), reg.Ref("a/b:1")); err != nil {
		t.Errorf("Manifest by tag = %v", err)
	}
}

func TestBlobDigestMismatch(t *testing.T) {
	t.Parallel()
	mw := &testreg.Switch{}
	reg := testreg.Start(t, testreg.WithHandler(mw.Wrap))
	f := newFixture(t, reg)
	img, ref := f.image("a/b:1")
	other, _ := f.image("a/b:2")
	layers, _ := img.Layers()
	otherLayers, _ := other.Layers()
	ld, _ := layers[0].Digest()
	od, _ := otherLayers[0].Digest()
	mw.Set(rewriteManifest("/v2/a/b/blobs/"+ld.String(), "/v2/a/b/blobs/"+od.String()))
	c := newClient(t, WithInsecureRegistry(reg.Addr))

	pulled, err := c.Image(t.Context(), ref, v1.Platform{})
	if err != nil {
		t.Fatalf("Image(%s) = %v", ref, err)
	}
	l, err := pulled.LayerByDigest(ld)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAllClose(rc)
	if k, ok := kindOf(err); !ok || k != DigestMismatch {
		t.Fatalf("reading layer served with other content = %v, want kind DigestMismatch", err)
	}
	if !strings.Contains(err.Error(), "a/b@"+ld.String()) {
		t.Errorf("error %q does not name the blob's reference", err)
	}
}

// imageFor is Client.Image for one platform, in FromSources' shape.
func imageFor(c *Client, platform v1.Platform) func(context.Context, string) (*Image, error) {
	return func(ctx context.Context, ref string) (*Image, error) { return c.Image(ctx, ref, platform) }
}

// TestFromSourcesStopsOnOtherErrors: an error that is not a registry
// failure (content read but malformed) ends the walk; later sources are not
// asked.
func TestFromSourcesStopsOnOtherErrors(t *testing.T) {
	t.Parallel()
	malformed := errors.New("malformed payload")
	var asked []string
	_, err := FromSources(t.Context(), []string{"a", "b", "c"}, func(_ context.Context, ref string) (int, error) {
		asked = append(asked, ref)
		if ref == "a" {
			return 0, &Error{Reference: ref, Kind: NotFound}
		}
		return 0, malformed
	})
	if !errors.Is(err, malformed) {
		t.Errorf("FromSources = %v, want the malformed error as is", err)
	}
	if strings.Join(asked, ",") != "a,b" {
		t.Errorf("asked %v, want a then b only", asked)
	}
}
