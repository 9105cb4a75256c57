package catalog_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// tarEntry is one member of a test layer: a regular file unless typ says
// otherwise.
type tarEntry struct {
	name, data string
	typ        byte
	link       string
}

func testLayer(t testing.TB, entries ...tarEntry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, en := range entries {
		h := &tar.Header{Name: en.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(en.data)), Linkname: en.link}
		if en.typ != 0 {
			h.Typeflag, h.Size = en.typ, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(en.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testImage(t testing.TB, label string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if label != "" {
		img, err = mutate.Config(img, v1.Config{Labels: map[string]string{catalog.ConfigsLabel: label}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func pkgJSON(name string) string { return `{"schema":"olm.package","name":"` + name + `"}` }

func packageNames(cfg *catalog.Config) []string {
	var names []string
	for _, p := range cfg.Packages {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

func TestLoadLayers(t *testing.T) {
	bottom := testLayer(t,
		tarEntry{name: "configs/", typ: tar.TypeDir},
		tarEntry{name: "configs/a.json", data: pkgJSON("a-old")},
		tarEntry{name: "configs/b.json", data: pkgJSON("b")},
		tarEntry{name: "configs/d/x.json", data: pkgJSON("d")},
		tarEntry{name: "other/z.json", data: "not a catalog"},
	)
	for _, tc := range []struct {
		name   string
		label  string
		layers []v1.Layer
		want   []string
	}{
		{"one layer", "/configs", []v1.Layer{bottom}, []string{"a-old", "b", "d"}},
		{"label without slash", "configs/", []v1.Layer{bottom}, []string{"a-old", "b", "d"}},
		{"upper file replaces lower", "/configs", []v1.Layer{bottom, testLayer(t, tarEntry{name: "./configs/a.json", data: pkgJSON("a-new")})}, []string{"a-new", "b", "d"}},
		{"whiteout of a file", "/configs", []v1.Layer{bottom, testLayer(t, tarEntry{name: "configs/.wh.b.json"})}, []string{"a-old", "d"}},
		{"whiteout of a directory", "/configs", []v1.Layer{bottom, testLayer(t, tarEntry{name: "configs/.wh.d"})}, []string{"a-old", "b"}},
		{"opaque directory", "/configs", []v1.Layer{bottom, testLayer(t,
			tarEntry{name: "configs/", typ: tar.TypeDir}, tarEntry{name: "configs/.wh..wh..opq"}, tarEntry{name: "configs/c.json", data: pkgJSON("c")})}, []string{"c"}},
		{"rebuilt: whiteout layer, then content", "/configs", []v1.Layer{bottom,
			testLayer(t, tarEntry{name: ".wh.configs"}),
			testLayer(t, tarEntry{name: "configs/", typ: tar.TypeDir}, tarEntry{name: "configs/n/catalog.json", data: pkgJSON("n")})}, []string{"n"}},
		{"whiteout applies to lower layers only", "/configs", []v1.Layer{bottom, testLayer(t,
			tarEntry{name: "configs/.wh.e.json"}, tarEntry{name: "configs/e.json", data: pkgJSON("e")})}, []string{"a-old", "b", "d", "e"}},
		{"file shadows a lower directory", "/configs", []v1.Layer{bottom, testLayer(t, tarEntry{name: "configs/d", data: pkgJSON("d-file")})}, []string{"a-old", "b", "d-file"}},
		{"later entry of a layer wins", "/configs", []v1.Layer{testLayer(t,
			tarEntry{name: "configs/a.json", data: pkgJSON("first")}, tarEntry{name: "configs/a.json", data: pkgJSON("second")})}, []string{"second"}},
		{"links", "/configs", []v1.Layer{bottom, testLayer(t,
			tarEntry{name: "configs/.wh.a.json"}, tarEntry{name: "configs/.wh.b.json"}, tarEntry{name: "configs/.wh.d"},
			tarEntry{name: "configs/.indexignore", data: "store/\n"},
			tarEntry{name: "configs/store/x.json", data: pkgJSON("via-symlink")},
			tarEntry{name: "configs/store/b.json", data: pkgJSON("via-hardlink")},
			tarEntry{name: "configs/sym.json", typ: tar.TypeSymlink, link: "store/x.json"},
			tarEntry{name: "configs/hard.json", typ: tar.TypeLink, link: "configs/store/b.json"})}, []string{"via-hardlink", "via-symlink"}},
		{"nested label", "/var/lib/catalog", []v1.Layer{testLayer(t, tarEntry{name: "var/lib/catalog/p.json", data: pkgJSON("p")}, tarEntry{name: "var/lib/other.json", data: "x"})}, []string{"p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := catalog.Load(context.Background(), testImage(t, tc.label, tc.layers...))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, packageNames(cfg)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	bottom := testLayer(t, tarEntry{name: "configs/a.json", data: pkgJSON("a")})
	for _, tc := range []struct {
		name string
		img  v1.Image
		want string
	}{
		{"no label", testImage(t, "", bottom), "image has no label operators.operatorframework.io.index.configs.v1"},
		{"root label", testImage(t, "/", bottom), "names the root directory"},
		{"empty", testImage(t, "/configs", testLayer(t, tarEntry{name: "etc/x", data: "x"})), "catalog directory /configs is empty or missing"},
		{"deleted", testImage(t, "/configs", bottom, testLayer(t, tarEntry{name: ".wh.configs"})), "empty or missing"},
		{"dangling link", testImage(t, "/configs", testLayer(t, tarEntry{name: "configs/x.json", typ: tar.TypeSymlink, link: "/etc/passwd"})), `/configs/x.json: link to "/etc/passwd", which is not a file of the image`},
		{"bad file names the file", testImage(t, "/configs", testLayer(t, tarEntry{name: "configs/p/bad.json", data: "{"})), "catalog /configs: p/bad.json: document 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.Load(context.Background(), tc.img)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := catalog.Load(ctx, testImage(t, "/configs", bottom)); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestLoadStopsAtSealedLayer: below a layer that deletes the catalog
// directory nothing is read, so a rebuilt catalog costs its top layers.
func TestLoadStopsAtSealedLayer(t *testing.T) {
	broken := &failingLayer{Layer: testLayer(t, tarEntry{name: "configs/a.json", data: pkgJSON("a")})}
	img := testImage(t, "/configs", broken,
		testLayer(t, tarEntry{name: ".wh.configs"}),
		testLayer(t, tarEntry{name: "configs/b.json", data: pkgJSON("b")}))
	cfg, err := catalog.Load(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, packageNames(cfg)); diff != "" {
		t.Error(diff)
	}
}

// failingLayer cannot be read.
type failingLayer struct{ v1.Layer }

func (failingLayer) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("must not be read") }

func TestLoadTestCatalogImage(t *testing.T) {
	c, want := testCatalog(t)
	got, err := catalog.Load(context.Background(), c.Image)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, rawEqual); diff != "" {
		t.Errorf("Load(image) differs from LoadFS(files) (-want +got):\n%s", diff)
	}
}

func TestRebuild(t *testing.T) {
	c, cfg := testCatalog(t)
	filtered, err := catalog.Filter(cfg, false, []catalog.PackageFilter{{Name: "alpha-operator"}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := catalog.Rebuild(c.Image, filtered)
	if err != nil {
		t.Fatal(err)
	}

	// What opm would serve: exactly the filtered catalog.
	got, err := catalog.Load(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(filtered, got, rawEqual, sortChannels); diff != "" {
		t.Errorf("Load(Rebuild(filtered)) (-want +got):\n%s", diff)
	}

	// The file system a container sees, as go-containerregistry flattens
	// it: the new catalog, no old file, no cache, the rest of the base.
	files := flatten(t, img)
	for _, p := range []string{"bin/opm", "etc/os-release", "configs/alpha-operator/catalog.json"} {
		if _, ok := files[p]; !ok {
			t.Errorf("rebuilt image lacks /%s", p)
		}
	}
	for p := range files {
		if strings.HasPrefix(p, "tmp/cache") || (strings.HasPrefix(p, "configs/") && !strings.HasPrefix(p, "configs/alpha-operator")) {
			t.Errorf("rebuilt image still has /%s", p)
		}
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"serve", "/configs"}, cf.Config.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/opm"}, cf.Config.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	base, _ := c.Image.ConfigFile()
	if diff := cmp.Diff(base.Config.Labels, cf.Config.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if _, ok := cf.Config.ExposedPorts["50051/tcp"]; !ok {
		t.Error("exposed port lost")
	}
	layers, _ := img.Layers()
	baseLayers, _ := c.Image.Layers()
	if len(layers) != len(baseLayers)+2 {
		t.Errorf("%d layers, want base's %d + 2", len(layers), len(baseLayers))
	}

	// Reproducible: the same filter on the same base gives the same digest.
	again, err := catalog.Rebuild(c.Image, filtered)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two rebuilds: %s and %s", d1, d2)
	}
}

func TestRebuildIndex(t *testing.T) {
	c, cfg := testCatalog(t)
	filtered, err := catalog.Filter(cfg, false, []catalog.PackageFilter{{Name: "gamma-operator"}})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := catalog.RebuildIndex(c.Index, filtered)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range im.Manifests {
		platforms = append(platforms, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		got, err := catalog.Load(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"gamma-operator"}, packageNames(got)); diff != "" {
			t.Errorf("%s: %s", d.Platform, diff)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != d.Platform.Architecture {
			t.Errorf("%s: image architecture %s", d.Platform, cf.Architecture)
		}
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, platforms); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	mt, _ := idx.MediaType()
	bmt, _ := c.Index.MediaType()
	if mt != bmt {
		t.Errorf("media type %s, want %s", mt, bmt)
	}
}

// sortChannels compares catalogs whatever their channel order (Write sorts
// channels by name).
var sortChannels = cmpopts.SortSlices(func(a, b catalog.Channel) bool {
	return a.Package+"/"+a.Name < b.Package+"/"+b.Name
})

// flatten returns the files of img as go-containerregistry composes them.
func flatten(t testing.TB, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(h.Name, "/")] = string(b)
		}
	}
}

func TestRelatedImages(t *testing.T) {
	c, cfg := testCatalog(t)
	for _, tc := range []struct {
		name    string
		full    bool
		bundles []string
	}{
		{"heads", false, catalogtest.HeadBundles},
		{"full", true, catalogtest.AllBundles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			filtered, err := catalog.Filter(cfg, tc.full, nil)
			if err != nil {
				t.Fatal(err)
			}
			images := catalog.RelatedImages(filtered)
			var refs []string
			for _, im := range images {
				refs = append(refs, im.Ref)
			}
			if diff := cmp.Diff(c.Refs(tc.bundles), refs); diff != "" {
				t.Errorf("RelatedImages (-want +got):\n%s", diff)
			}
		})
	}
	images := catalog.RelatedImages(cfg)
	for _, im := range images {
		switch {
		case strings.Contains(im.Ref, "kube-rbac-proxy"):
			if im.Bundle || len(im.Bundles) != 4 {
				t.Errorf("shared image %+v: want 4 bundles, not a bundle image", im)
			}
		case strings.Contains(im.Ref, "-bundle@"):
			if !im.Bundle || len(im.Bundles) != 1 {
				t.Errorf("bundle image %+v: want one bundle", im)
			}
		}
	}
}
