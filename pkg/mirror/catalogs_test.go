package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// TestBuiltCatalog: an image made in memory (a rebuilt catalog) is copied
// like any other, and its record gives a CatalogSource and a ClusterCatalog
// pinned by digest plus the HostedCluster catalog annotation.
func TestBuiltCatalog(t *testing.T) {
	dest := testreg.Start(t)
	c := mustClient(t, dest)
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	src := "registry.redhat.io/redhat/redhat-operator-index@" + d.String()
	rs, err := NewRegistrySource(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := NewBuiltSource(Built{src: img}, rs)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := NewRegistryTarget(t.Context(), c, dest.Addr+"/m")
	if err != nil {
		t.Fatal(err)
	}
	im := Image{Source: src, Repo: "redhat/redhat-operator-index", Tag: "v4.16", Kind: KindCatalog, DigestPull: true}
	res := Copy(t.Context(), bs, tgt, []Image{im}, CopyOptions{})
	if res[0].Status != StatusCopied || res[0].Digest != d.String() {
		t.Fatalf("copy of a built image: %+v", res[0])
	}
	ws := Workspace{Dir: t.TempDir()}
	recs, err := ws.Add(dest.Addr+"/m", res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.WriteResources(recs, ResourceOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, err := os.ReadFile(filepath.Join(ws.ClusterResourcesDir(), "cs-redhat-operator-index-v4-16.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cs), "image: "+dest.Addr+"/m/redhat/redhat-operator-index@"+d.String()) || !strings.Contains(string(cs), "sourceType: grpc") {
		t.Errorf("CatalogSource:\n%s", cs)
	}
	if _, err := os.Stat(filepath.Join(ws.ClusterResourcesDir(), "cc-redhat-operator-index-v4-16.yaml")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(ws.ClusterResourcesDir(), "idms-hcpmirror.yaml")); err == nil {
		t.Error("a catalog alone made an IDMS: catalogs are referenced by CatalogSource, not through mirrors")
	}
}
