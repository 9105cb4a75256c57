package catalogserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/operator-framework/operator-registry/pkg/api"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/layer"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// catalogImage is a catalog image holding files under /configs, labelled
// as opm's images are.
func catalogImage(t testing.TB, files map[string][]obj) v1.Image {
	t.Helper()
	dir := t.TempDir()
	writeCatalog(t, dir, files)
	lf := []layer.File{{Name: "configs/", Dir: true}}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		lf = append(lf, layer.File{Name: "configs/" + filepath.Dir(p) + "/", Dir: true}, layer.File{Name: "configs/" + p, Data: data})
	}
	l, err := layer.New(lf)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Labels = map[string]string{catalog.ConfigsLabel: "/configs"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// push writes img to ref on a plain-HTTP test registry.
func push(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// mirrorsFor mirrors source/redhat to mirror/redhat for digests and tags,
// never contacting the source.
func mirrorsFor(t testing.TB, source, mirror string) *mirrorset.Config {
	t.Helper()
	entries := []mirrorset.Entry{{Source: source + "/redhat", Mirrors: []string{mirror + "/redhat"}, Policy: mirrorset.NeverContactSource}}
	cfg, err := mirrorset.Compile([]mirrorset.Set{
		{Kind: mirrorset.KindIDMS, Name: "catalogs", Entries: entries},
		{Kind: mirrorset.KindITMS, Name: "catalogs", Entries: entries},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func packageNames(ctx context.Context, c api.RegistryClient) ([]string, error) {
	s, err := c.ListPackages(ctx, &api.ListPackageRequest{})
	if err != nil {
		return nil, err
	}
	var names []string
	for {
		p, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return names, err
		}
		names = append(names, p.Name)
	}
}

// TestRunFollowsTag runs the server on a catalog named by tag under a
// source that must never be contacted, pulled through a mirror: it turns
// SERVING with the catalog, serves the new content when the mirror's tag
// moves (without a restart), keeps the last catalog when pulls fail, and
// answers at once from its cache after a restart with the mirror gone.
func TestRunFollowsTag(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	push(t, mirror.Addr+"/redhat/redhat-operator-index:v4.16", catalogImage(t, oracleCatalog()))
	mirrors := mirrorsFor(t, source, mirror.Addr)
	var broken atomic.Bool
	cacheDir := t.TempDir()
	run := func(ctx context.Context) (string, chan error) {
		addrc := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() {
			done <- catalogserver.Run(ctx, catalogserver.RunOptions{
				CatalogImage: source + "/redhat/redhat-operator-index:v4.16",
				Listen:       "127.0.0.1:0",
				PollInterval: 200 * time.Millisecond,
				CacheDir:     cacheDir,
				Mirrors: func() (*mirrorset.Config, error) {
					if broken.Load() {
						return nil, errors.New("the overrides ConfigMap does not parse")
					}
					return mirrors, nil
				},
				Registry:  func() (*registry.Client, error) { return registry.New(registry.WithInsecureRegistry(mirror.Addr)) },
				Log:       testr.New(t),
				Listening: func(a net.Addr) { addrc <- a },
			})
		}()
		return (<-addrc).String(), done
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := run(ctx)
	conn := dial(t, addr)
	c := api.NewRegistryClient(conn)
	waitPackages := func(want ...string) {
		t.Helper()
		envtest.Eventually(t, 10*time.Second, func() error {
			got, err := packageNames(context.Background(), c)
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				b, _ := json.Marshal(got)
				return errors.New("packages " + string(b))
			}
			return nil
		})
	}
	waitPackages("etcd", "legacy-op", "prometheus")
	hc := grpc_health_v1.NewHealthClient(conn)
	if r, err := hc.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{}); err != nil || r.Status != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", r, err)
	}

	// The mirror's tag moves.
	push(t, mirror.Addr+"/redhat/redhat-operator-index:v4.16", catalogImage(t, syntheticCatalog(2, 3)))
	waitPackages("operator-000", "operator-001")

	// Pulls fail: the catalog in service stays.
	broken.Store(true)
	push(t, mirror.Addr+"/redhat/redhat-operator-index:v4.16", catalogImage(t, oracleCatalog()))
	time.Sleep(time.Second)
	waitPackages("operator-000", "operator-001")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Restarted with the mirror unreachable (broken): the cache answers.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	addr2, done2 := run(ctx2)
	c = api.NewRegistryClient(dial(t, addr2))
	waitPackages("operator-000", "operator-001")
	// Fixed: the tag is resolved again and the new content served.
	broken.Store(false)
	waitPackages("etcd", "legacy-op", "prometheus")
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
