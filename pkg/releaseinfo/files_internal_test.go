package releaseinfo

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/hcpmirror/hcpmirror/pkg/layer"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// TestReadDirWhiteouts: upper layers delete lower files with a whiteout,
// and hide a whole directory of lower layers with an opaque marker, as a
// runtime unpacking the image would.
func TestReadDirWhiteouts(t *testing.T) {
	const dir = "etc/mcs/bootstrap/files/"
	mk := func(files ...layer.File) v1.Layer {
		t.Helper()
		l, err := layer.New(files)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	base := mk(
		layer.File{Name: dir + "etc/a", Data: []byte("a")},
		layer.File{Name: dir + "etc/b", Data: []byte("b")},
		layer.File{Name: dir + "opaque/old", Data: []byte("old")},
	)
	upper := mk(
		layer.File{Name: dir + "etc/.wh.a"},
		layer.File{Name: dir + "opaque/.wh..wh..opq"},
		layer.File{Name: dir + "opaque/new", Data: []byte("new")},
	)
	img, err := mutate.AppendLayers(empty.Image, base, upper)
	if err != nil {
		t.Fatal(err)
	}
	files, err := readDir(&registry.Image{Image: img}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"etc/b", "opaque/new"}, slices.Sorted(maps.Keys(files))); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}
