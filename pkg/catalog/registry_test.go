package catalog_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// TestRegistryRoundTrip runs the whole operator path against real
// registries: read the published catalog, filter, check that every image
// to copy exists at the source, push the rebuilt index to a mirror and
// read it back from there.
func TestRegistryRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := registry.Start(t)
	dst := registry.Start(t)
	c := catalogtest.Publish(t, src)

	ref, err := name.ParseReference(c.Ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := catalog.LoadIndex(ctx, idx)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := catalog.Filter(cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, im := range catalog.RelatedImages(kept) {
		refs = append(refs, im.Ref)
		r, err := name.ParseReference(im.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Head(r, remote.WithContext(ctx)); err != nil {
			t.Errorf("%s is not at the source: %v", im.Ref, err)
		}
	}
	if diff := cmp.Diff(c.Refs(catalogtest.HeadBundles), refs); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}

	rebuilt, err := catalog.RebuildIndex(idx, kept)
	if err != nil {
		t.Fatal(err)
	}
	mirrored, err := name.ParseReference(dst.Ref(catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mirrored, rebuilt, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	back, err := remote.Index(mirrored, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	bim, err := back.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(bim.Manifests) != 2 {
		t.Fatalf("mirrored index has %d manifests, want 2", len(bim.Manifests))
	}
	bimg, err := back.Image(bim.Manifests[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	served, err := catalog.Load(ctx, bimg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(kept, served, rawEqual, sortChannels); diff != "" {
		t.Errorf("mirrored catalog (-want +got):\n%s", diff)
	}
}
