// Package catalogtest builds a small but realistic OLM catalog image, with
// real bundle and related images, for tests that mirror operators.
//
// [Build] makes everything in memory, naming images under a host of the
// caller's choice; [Publish] builds for a test registry and pushes it all
// there, the way quay.io and registry.redhat.io serve a real catalog: the
// bundle and related images by digest (one operand by tag), the catalog as a
// two-architecture index under Ref and as a single image under SingleRef.
//
// The catalog, its files written as opm writes them (JSON and YAML, an
// .indexignore, a pre-computed cache under /tmp/cache named by
// CMD serve /configs --cache-dir=/tmp/cache):
//
//	alpha-operator (default channel stable)
//	  stable: v1.0.0 ← v1.1.0 ← v1.2.0 (skips v1.0.0)          head v1.2.0
//	  fast:   v1.2.0 (replaces v1.1.0, not in fast) ← v2.0.0    head v2.0.0
//	  every bundle also runs the shared kube-rbac-proxy image
//	beta-operator (default channel stable-v1; YAML; deprecations)
//	  stable-v1: v0.9.0 ← v1.0.0 ← v1.0.1                      head v1.0.1
//	  stable-v2: v2.0.0                                         head v2.0.0
//	gamma-operator (default channel alpha)
//	  alpha: v0.1.0, whose operand is referenced by tag        head v0.1.0
//
// Bundle names are <package>.v<version>. HeadBundles are what a catalog
// filtered with no packages (heads of every channel) keeps; AllBundles is
// everything. [Catalog.Refs] turns a set of bundles into the sorted image
// references a mirror must copy for them.
package catalogtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/layer"

	"github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// CatalogRepo and CatalogTag are where Publish puts the catalog, under the
// registry's address, as the Red Hat operator index is named.
const (
	CatalogRepo = "redhat/redhat-operator-index"
	CatalogTag  = "v4.16"
	// SingleTag is the tag of the single-architecture (linux/amd64) image.
	SingleTag = "v4.16-amd64"
)

// HeadBundles are the bundles kept by default: the head of every channel.
var HeadBundles = []string{
	"alpha-operator.v1.2.0", "alpha-operator.v2.0.0",
	"beta-operator.v1.0.1", "beta-operator.v2.0.0",
	"gamma-operator.v0.1.0",
}

// AllBundles are every bundle of the catalog.
var AllBundles = []string{
	"alpha-operator.v1.0.0", "alpha-operator.v1.1.0", "alpha-operator.v1.2.0", "alpha-operator.v2.0.0",
	"beta-operator.v0.9.0", "beta-operator.v1.0.0", "beta-operator.v1.0.1", "beta-operator.v2.0.0",
	"gamma-operator.v0.1.0",
}

// Catalog is a built catalog and the images it names.
type Catalog struct {
	// Ref is the catalog's reference (the index), SingleRef that of its
	// linux/amd64 image alone.
	Ref, SingleRef string
	// Index is the catalog for linux/amd64 and linux/arm64; Image is its
	// linux/amd64 image.
	Index v1.ImageIndex
	Image v1.Image
	// Files is the catalog directory as written into the image, by path
	// below /configs.
	Files map[string][]byte
	// BundleImages maps each bundle to the references it needs: its bundle
	// image first, then its related images.
	BundleImages map[string][]string
	// Images holds every bundle and related image by reference.
	Images map[string]v1.Image
}

// Refs returns the sorted, deduplicated references that the given
// bundles need mirrored (bundle images and related images).
func (c *Catalog) Refs(bundles []string) []string {
	var refs []string
	for _, b := range bundles {
		refs = append(refs, c.BundleImages[b]...)
	}
	slices.Sort(refs)
	return slices.Compact(refs)
}

// created dates everything built here, so builds are reproducible.
var created = time.Date(2024, time.July, 1, 0, 0, 0, 0, time.UTC)

// Build makes the catalog and its images in memory, naming every image
// under host (such as "127.0.0.1:5000" or "registry.example.com").
func Build(host string) (*Catalog, error) {
	c := &Catalog{
		Ref:          host + "/" + CatalogRepo + ":" + CatalogTag,
		SingleRef:    host + "/" + CatalogRepo + ":" + SingleTag,
		BundleImages: map[string][]string{},
		Images:       map[string]v1.Image{},
	}
	byDigest := func(repo, content string) (string, error) {
		img, err := simpleImage(content)
		if err != nil {
			return "", err
		}
		d, err := img.Digest()
		if err != nil {
			return "", err
		}
		ref := host + "/" + repo + "@" + d.String()
		c.Images[ref] = img
		return ref, nil
	}
	byTag := func(repo, tag, content string) (string, error) {
		img, err := simpleImage(content)
		if err != nil {
			return "", err
		}
		ref := host + "/" + repo + ":" + tag
		c.Images[ref] = img
		return ref, nil
	}
	proxy, err := byDigest("openshift4/ose-kube-rbac-proxy", "kube-rbac-proxy")
	if err != nil {
		return nil, err
	}

	type bundle struct {
		pkg, version string
		operand      string // by tag when set
	}
	bundles := []bundle{
		{pkg: "alpha-operator", version: "1.0.0"}, {pkg: "alpha-operator", version: "1.1.0"},
		{pkg: "alpha-operator", version: "1.2.0"}, {pkg: "alpha-operator", version: "2.0.0"},
		{pkg: "beta-operator", version: "0.9.0"}, {pkg: "beta-operator", version: "1.0.0"},
		{pkg: "beta-operator", version: "1.0.1"}, {pkg: "beta-operator", version: "2.0.0"},
		{pkg: "gamma-operator", version: "0.1.0", operand: "0.1"},
	}
	objects := map[string][]string{} // package → bundle objects (JSON)
	for _, b := range bundles {
		bname := b.pkg + ".v" + b.version
		bundleRef, err := byDigest(b.pkg+"/"+b.pkg+"-bundle", bname+" bundle")
		if err != nil {
			return nil, err
		}
		operatorRef, err := byDigest(b.pkg+"/"+b.pkg+"-rhel9", bname+" operator")
		if err != nil {
			return nil, err
		}
		related := []string{bundleRef, operatorRef}
		rel := fmt.Sprintf(`{"name":"","image":%q},{"name":"manager","image":%q}`, bundleRef, operatorRef)
		switch {
		case b.pkg == "alpha-operator":
			related = append(related, proxy)
			rel += fmt.Sprintf(`,{"name":"kube-rbac-proxy","image":%q}`, proxy)
		case b.operand != "":
			operand, err := byTag(b.pkg+"/operand", b.operand, bname+" operand")
			if err != nil {
				return nil, err
			}
			related = append(related, operand)
			rel += fmt.Sprintf(`,{"name":"operand","image":%q}`, operand)
		}
		c.BundleImages[bname] = related
		objects[b.pkg] = append(objects[b.pkg], fmt.Sprintf(`{
    "schema": "olm.bundle",
    "name": %q,
    "package": %q,
    "image": %q,
    "properties": [
        {"type": "olm.package", "value": {"packageName": %q, "version": %q}},
        {"type": "olm.gvk", "value": {"group": "example.com", "kind": "Widget", "version": "v1"}},
        {"type": "olm.csv.metadata", "value": {"displayName": %q, "annotations": {"containerImage": %q}}}
    ],
    "relatedImages": [%s]
}`, bname, b.pkg, bundleRef, b.pkg, b.version, bname, operatorRef, rel))
	}

	c.Files = map[string][]byte{
		".indexignore": []byte("# not catalog content\n*.md\n"),
		"README.md":    []byte("This catalog is generated by hcpmirror's tests.\n"),
		"alpha-operator/catalog.json": []byte(`{"schema": "olm.package", "name": "alpha-operator", "defaultChannel": "stable",
 "description": "Alpha <operator> & friends", "icon": {"base64data": "PHN2Zy8+", "mediatype": "image/svg+xml"}}
{"schema": "olm.channel", "name": "stable", "package": "alpha-operator", "entries": [
  {"name": "alpha-operator.v1.0.0"},
  {"name": "alpha-operator.v1.1.0", "replaces": "alpha-operator.v1.0.0"},
  {"name": "alpha-operator.v1.2.0", "replaces": "alpha-operator.v1.1.0", "skips": ["alpha-operator.v1.0.0"], "skipRange": ">=1.0.0 <1.2.0"}]}
{"schema": "olm.channel", "name": "fast", "package": "alpha-operator", "entries": [
  {"name": "alpha-operator.v1.2.0", "replaces": "alpha-operator.v1.1.0"},
  {"name": "alpha-operator.v2.0.0", "replaces": "alpha-operator.v1.2.0"}]}
` + strings.Join(objects["alpha-operator"], "\n") + "\n"),
		"beta-operator/catalog.yaml": []byte(`---
schema: olm.package
name: beta-operator
defaultChannel: stable-v1
---
schema: olm.channel
name: stable-v1
package: beta-operator
entries:
- name: beta-operator.v0.9.0
- name: beta-operator.v1.0.0
  replaces: beta-operator.v0.9.0
- name: beta-operator.v1.0.1
  replaces: beta-operator.v1.0.0
---
schema: olm.channel
name: stable-v2
package: beta-operator
entries:
- name: beta-operator.v2.0.0
---
schema: olm.deprecations
package: beta-operator
entries:
- reference:
    schema: olm.bundle
    name: beta-operator.v0.9.0
  message: beta-operator.v0.9.0 is deprecated; upgrade to v1.
- reference:
    schema: olm.channel
    name: stable-v1
  message: stable-v1 ends soon; use stable-v2.
`),
		"beta-operator/bundles.json": []byte(strings.Join(objects["beta-operator"], "\n") + "\n"),
		"gamma-operator/index.json": []byte(`{"schema":"olm.package","name":"gamma-operator","defaultChannel":"alpha"}
{"schema":"olm.channel","name":"alpha","package":"gamma-operator","entries":[{"name":"gamma-operator.v0.1.0"}]}
` + strings.Join(objects["gamma-operator"], "\n") + "\n"),
	}

	var images []v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := catalogImage(c.Files, arch)
		if err != nil {
			return nil, fmt.Errorf("catalog image for %s: %w", arch, err)
		}
		images = append(images, img)
	}
	c.Image = images[0]
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, arch := range []string{"amd64", "arm64"} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        images[i],
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	c.Index = idx
	return c, nil
}

// Publish builds the catalog for reg and pushes its images, then the
// catalog (Ref and SingleRef), failing the test on any error.
func Publish(t testing.TB, reg *registry.Registry) *Catalog {
	t.Helper()
	c, err := Build(reg.Addr)
	if err != nil {
		t.Fatalf("building test catalog: %v", err)
	}
	if err := c.Push(context.Background()); err != nil {
		t.Fatalf("pushing test catalog: %v", err)
	}
	return c
}

// Push writes every image of c to the registry its references name, the
// catalog last, so that a reader who sees the catalog finds all it names.
func (c *Catalog) Push(ctx context.Context, opts ...remote.Option) error {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	refs := make([]string, 0, len(c.Images))
	for r := range c.Images {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	for _, r := range refs {
		ref, err := name.ParseReference(r)
		if err != nil {
			return err
		}
		// A digest reference is pushed under a tag of its own so that a
		// registry does not garbage-collect it; the digest is what matters.
		if d, ok := ref.(name.Digest); ok {
			ref = d.Context().Tag("sha256-" + strings.TrimPrefix(d.DigestStr(), "sha256:"))
		}
		if err := remote.Write(ref, c.Images[r], opts...); err != nil {
			return fmt.Errorf("pushing %s: %w", r, err)
		}
	}
	single, err := name.ParseReference(c.SingleRef)
	if err != nil {
		return err
	}
	if err := remote.Write(single, c.Image, opts...); err != nil {
		return fmt.Errorf("pushing %s: %w", c.SingleRef, err)
	}
	ref, err := name.ParseReference(c.Ref)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(ref, c.Index, opts...); err != nil {
		return fmt.Errorf("pushing %s: %w", c.Ref, err)
	}
	return nil
}

// simpleImage is a one-layer linux/amd64 image whose content identifies it.
func simpleImage(content string) (v1.Image, error) {
	l, err := newLayer([]layer.File{{Name: "content.txt", Data: []byte(content + "\n")}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", "amd64", v1.Time{Time: created}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.MediaType(img, types.OCIManifestSchema1), nil
}

// catalogImage is an opm-style catalog image: a base with /bin/opm, the
// catalog directory, and a cache built from it.
func catalogImage(files map[string][]byte, arch string) (v1.Image, error) {
	base, err := newLayer([]layer.File{
		{Name: "bin/", Dir: true},
		{Name: "bin/opm", Data: []byte("#!/bin/sh\necho opm " + arch + "\n"), Mode: 0o755},
		{Name: "etc/", Dir: true},
		{Name: "etc/os-release", Data: []byte("ID=hcpmirror-test\n")},
		{Name: "tmp/", Dir: true, Mode: 0o1777},
	})
	if err != nil {
		return nil, err
	}
	configs := []layer.File{{Name: "configs/", Dir: true}}
	dirs := map[string]bool{}
	for _, p := range sortedKeys(files) {
		if i := strings.LastIndex(p, "/"); i > 0 && !dirs[p[:i]] {
			dirs[p[:i]] = true
			configs = append(configs, layer.File{Name: "configs/" + p[:i] + "/", Dir: true})
		}
		configs = append(configs, layer.File{Name: "configs/" + p, Data: files[p]})
	}
	cfgLayer, err := newLayer(configs)
	if err != nil {
		return nil, err
	}
	cache, err := newLayer([]layer.File{
		{Name: "tmp/cache/", Dir: true},
		{Name: "tmp/cache/digest", Data: []byte("0123456789abcdef\n")},
		{Name: "tmp/cache/cache/packages.json", Data: []byte(`{"stale":"cache of the full catalog"}` + "\n")},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, cfgLayer, cache)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", arch, v1.Time{Time: created}
	cf.Config.Entrypoint = []string{"/bin/opm"}
	cf.Config.Cmd = []string{"serve", "/configs", "--cache-dir=/tmp/cache"}
	cf.Config.Labels = map[string]string{
		catalog.ConfigsLabel:                        "/configs",
		"io.k8s.display-name":                       "Test Operator Catalog",
		"operators.operatorframework.io.index.test": "hcpmirror",
	}
	cf.Config.ExposedPorts = map[string]struct{}{"50051/tcp": {}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.MediaType(img, types.OCIManifestSchema1), nil
}

func newLayer(ms []layer.File) (v1.Layer, error) {
	return layer.New(ms, layer.WithModTime(created), layer.WithMediaType(types.OCILayer))
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
