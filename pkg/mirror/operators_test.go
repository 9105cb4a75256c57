package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

const iscOperators = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: UPSTREAM/redhat/redhat-operator-index:v4.16
    packages:
    - name: alpha-operator
      channels:
      - name: stable
`

// TestMirrorOperators mirrors one package of a catalog published on a local
// upstream registry, then a second package: the rebuilt catalog serves only
// the kept bundles, the CatalogSource points at its digest, every bundle and
// related image resolves through the written IDMS (or, by tag, ITMS), the
// second run copies only what is new and its resources cover both, and
// verify -c checks bundles and related images.
func TestMirrorOperators(t *testing.T) {
	l := newLab(t, 4, "4.16.3")
	cat := catalogtest.Publish(t, l.upstream)
	ws := t.TempDir()

	check := func(t *testing.T, rep *Report, bundles []string) {
		t.Helper()
		for _, r := range rep.Results {
			if r.Status == StatusFailed {
				t.Errorf("failed: %+v", r)
			}
		}
		opts := l.client.RemoteOptions(t.Context())
		// The rebuilt catalog holds exactly the kept bundles.
		ref, err := name.ParseReference(l.dest.Addr + "/mirror/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(ref, opts...)
		if err != nil {
			t.Fatalf("rebuilt catalog: %v", err)
		}
		cfg, err := catalog.LoadIndex(t.Context(), idx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range cfg.Bundles {
			got = append(got, b.Name)
		}
		if strings.Join(got, ",") != strings.Join(bundles, ",") {
			t.Errorf("rebuilt catalog serves %v, want %v", got, bundles)
		}
		d, _ := idx.Digest()
		cs, err := os.ReadFile(filepath.Join(ws, WorkingDir, ClusterResources, "cs-redhat-operator-index-v4-16.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "image: " + l.dest.Addr + "/mirror/" + catalogtest.CatalogRepo + "@" + d.String(); !strings.Contains(string(cs), want) {
			t.Errorf("CatalogSource lacks %q:\n%s", want, cs)
		}
		if _, err := os.Stat(filepath.Join(ws, WorkingDir, ClusterResources, "cc-redhat-operator-index-v4-16.yaml")); err != nil {
			t.Error(err)
		}
		ics, err := os.ReadFile(filepath.Join(ws, WorkingDir, ClusterResources, ICSFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ics), OLMCatalogsAnnotation) || !strings.Contains(string(ics), l.upstream.Addr+"/"+catalogtest.CatalogRepo+"="+l.dest.Addr+"/mirror/"+catalogtest.CatalogRepo) {
			t.Errorf("%s lacks the olm-catalogs annotation:\n%s", ICSFile, ics)
		}
		// Every bundle and related image resolves through the resources
		// and is served by the mirror.
		loaded, err := mirrorset.Load(t.Context(), nil, ws)
		if err != nil {
			t.Fatal(err)
		}
		mcfg, err := mirrorset.Compile(loaded.Sets)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range cat.Refs(bundles) {
			res, err := mcfg.Resolve(r)
			if err != nil {
				t.Fatal(err)
			}
			srcs := res.References()
			if len(srcs) == 0 || !strings.HasPrefix(srcs[0], l.dest.Addr+"/mirror/") {
				t.Errorf("resolve %s = %v: not through the mirror", r, srcs)
				continue
			}
			if _, err := l.client.Head(t.Context(), srcs[0]); err != nil {
				t.Errorf("%s: mirror %s: %v", r, srcs[0], err)
			}
		}
	}

	rep, err := Run(t.Context(), l.isc(t, ws, iscOperators), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	first := []string{"alpha-operator.v1.2.0"}
	if want := len(cat.Refs(first)) + 1; rep.Copied != want {
		t.Errorf("first run copied %d, want %d (catalog + %v)", rep.Copied, want, cat.Refs(first))
	}
	check(t, rep, first)

	grown := iscOperators + "    - name: gamma-operator\n"
	rep, err = Run(t.Context(), l.isc(t, ws, grown), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	both := []string{"alpha-operator.v1.2.0", "gamma-operator.v0.1.0"}
	newRefs := len(cat.Refs(both)) - len(cat.Refs(first))
	if rep.Copied != newRefs+1 || rep.Present != len(cat.Refs(first)) {
		t.Errorf("second run: %d copied (want %d: the new catalog and %d new images), %d present (want %d)", rep.Copied, newRefs+1, newRefs, rep.Present, len(cat.Refs(first)))
	}
	check(t, rep, both)

	// verify -c covers bundles and related images.
	loaded, err := mirrorset.Load(t.Context(), nil, ws)
	if err != nil {
		t.Fatal(err)
	}
	mcfg, err := mirrorset.Compile(loaded.Sets)
	if err != nil {
		t.Fatal(err)
	}
	p, err := releaseinfo.New(releaseinfo.WithClient(l.client))
	if err != nil {
		t.Fatal(err)
	}
	cats, _ := CatalogObjects(loaded.Others)
	vr, err := VerifyImageSet(t.Context(), p, l.client, mcfg, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: l.graphURL, Catalogs: cats})
	if err != nil {
		t.Fatal(err)
	}
	operator := 0
	for _, c := range vr.Checks {
		if c.Kind == CheckOperator {
			operator++
			if !strings.HasPrefix(c.ServedBy, l.dest.Addr+"/mirror/") {
				t.Errorf("verify: %s served by %q, not the mirror", c.Image, c.ServedBy)
			}
		}
	}
	if operator != len(cat.Refs(both)) || !vr.OK() {
		t.Errorf("verify -c: %d operator checks (want %d), %d missing", operator, len(cat.Refs(both)), len(vr.Missing()))
	}
	// The catalog's source gone and no CatalogSource given: a failed check
	// naming the catalog.
	l.upstream.Close()
	vr, err = VerifyImageSet(t.Context(), p, l.client, mcfg, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: l.graphURL})
	if err != nil {
		t.Fatal(err)
	}
	if m := vr.Missing(); vr.OK() || len(m) != 1 || !strings.Contains(m[0].Image, catalogtest.CatalogRepo) {
		t.Errorf("verify -c with the catalog unreadable: OK=%v, missing %+v", vr.OK(), m)
	}
}

// TestMirrorWholeCatalog: full: true without packages copies the catalog as
// it is (its digest kept) and every bundle and related image.
func TestMirrorWholeCatalog(t *testing.T) {
	l := newLab(t, 2, "4.16.3")
	cat := catalogtest.Publish(t, l.upstream)
	ws := t.TempDir()
	isc := l.isc(t, ws, `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: UPSTREAM/redhat/redhat-operator-index:v4.16
    full: true
`)
	rep, err := Run(t.Context(), isc, l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(cat.Refs(catalogtest.AllBundles)) + 1; !rep.Complete() || rep.Copied != want {
		t.Errorf("whole catalog: complete=%v, copied %d, want %d", rep.Complete(), rep.Copied, want)
	}
	d, _ := cat.Index.Digest()
	for _, r := range rep.Results {
		if r.Image.Kind == KindCatalog && r.Digest != d.String() {
			t.Errorf("catalog copied as %s, want its own digest %s", r.Digest, d)
		}
	}
}
