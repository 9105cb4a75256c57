package mirror

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// lab is an upstream registry playing quay.io (payloads name it instead of
// quay.io, at quay.io's paths), a mirror registry, and an update service
// on 127.0.0.1.
type lab struct {
	upstream, dest *testreg.Registry
	graphs         map[string]map[string]*cincinnati.Graph
	graphURL       string
	releases       map[string]*synthrelease.Published // by version
	additional     string                             // an additional image by tag
	client         *registry.Client
}

// newLab starts the registries and the update service and publishes the
// given versions (each with components components) into stable-4.16.
func newLab(t *testing.T, components int, versions ...string) *lab {
	t.Helper()
	return newLabWith(t, nil, nil, components, versions...)
}

// newLabWith is newLab with options (faults) for the two registries.
func newLabWith(t *testing.T, upOpts, destOpts []testreg.Option, components int, versions ...string) *lab {
	t.Helper()
	l := &lab{upstream: testreg.Start(t, upOpts...), dest: testreg.Start(t, destOpts...), releases: map[string]*synthrelease.Published{}}
	l.graphs = newGraphs()
	l.graphURL = startGraph(t, l.graphs) + "/graph"
	for i, v := range versions {
		l.publish(t, v, int64(i+1), components)
	}
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.additional = l.upstream.Addr + "/karmab/origin-keepalived-ipfailover:latest"
	push(t, l.additional, img)
	l.client = mustClient(t, l.upstream, l.dest)
	return l
}

// mustClient is a registry client for plain-HTTP test registries.
func mustClient(t *testing.T, regs ...*testreg.Registry) *registry.Client {
	t.Helper()
	opts := []registry.Option{registry.WithoutDefaultAuthFile()}
	for _, r := range regs {
		opts = append(opts, registry.WithInsecureRegistry(r.Addr))
	}
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newGraphs() map[string]map[string]*cincinnati.Graph {
	return map[string]map[string]*cincinnati.Graph{"stable-4.16": {"amd64": {Version: 1}}}
}

// startGraph serves the graphs on 127.0.0.1 and returns the base URL.
func startGraph(t *testing.T, graphs map[string]map[string]*cincinnati.Graph) string {
	srv := httptest.NewServer(cincinnati.Handler(graphs))
	t.Cleanup(srv.Close)
	return srv.URL
}

func nodeFor(pub *synthrelease.Published) cincinnati.Node {
	return cincinnati.Node{Version: pub.Version, Payload: pub.MirrorRelease}
}

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// publish pushes one synthetic release to the upstream registry at quay.io's
// paths, its payload naming the upstream instead of quay.io, and lists it
// in the channel.
func (l *lab) publish(t *testing.T, version string, seed int64, components int) {
	t.Helper()
	rename := func(s string) string {
		return strings.ReplaceAll(s, "quay.io/openshift-release-dev/", l.upstream.Addr+"/openshift-release-dev/")
	}
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination:    l.upstream.Addr,
		Version:        version,
		Components:     components,
		Seed:           seed,
		ComponentsRepo: "openshift-release-dev/ocp-v4.0-art-dev",
		ReleaseRepo:    "openshift-release-dev/ocp-release",
		EditManifests: func(files map[string][]byte) error {
			for _, f := range []string{release.ImageReferencesFile, release.BootImagesFile} {
				if b, ok := files[f]; ok {
					files[f] = []byte(rename(string(b)))
				}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("publishing %s: %v", version, err)
	}
	l.releases[version] = pub
	g := l.graphs["stable-4.16"]["amd64"]
	g.Nodes = append(g.Nodes, nodeFor(pub))
	if n := len(g.Nodes); n > 1 {
		g.Edges = append(g.Edges, [2]int{n - 2, n - 1})
	}
}

// isc writes an ImageSetConfiguration into dir and loads it.
func (l *lab) isc(t *testing.T, dir, body string) *imageset.ImageSetConfiguration {
	t.Helper()
	body = strings.ReplaceAll(body, "UPSTREAM", l.upstream.Addr)
	p := filepath.Join(dir, fmt.Sprintf("isc-%d.yaml", len(body)))
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	isc, _, err := imageset.Load(p)
	if err != nil {
		t.Fatalf("loading %s: %v\n%s", p, err, body)
	}
	return isc
}

func (l *lab) options(mode Mode, ws string) Options {
	return Options{Mode: mode, Client: l.client, Destination: l.dest.Addr + "/mirror", Workspace: ws, GraphURL: l.graphURL, Parallel: 8}
}

// closedAddr is a 127.0.0.1 address nothing listens on: a connection to it
// is refused at once, as an update service out of reach may be.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
