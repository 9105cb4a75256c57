package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/cli"

	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// Upstream paths, as quay.io names OpenShift releases.
const (
	upstreamComponentsRepo = "openshift-release-dev/ocp-v4.0-art-dev"
	upstreamReleaseRepo    = "openshift-release-dev/ocp-release"
	upstreamChannel        = "stable-4.16"
)

func newUpstreamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upstream",
		Short: "Play the internet a mirror is filled from: a registry, an update graph, a catalog",
	}
	cmd.AddCommand(newUpstreamServeCommand())
	return cmd
}

func newUpstreamServeCommand() *cobra.Command {
	var (
		addr, graphAddr string
		versions        []string
		components      int
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--graph-addr HOST:PORT] [--version V]... [--components N]",
		Short: "Serve an upstream registry with synthetic releases and a catalog, and their update graph",
		Long: `Serve plays quay.io, registry.redhat.io and the OpenShift update service on
127.0.0.1, so that "hcpmirror mirror" can be tried without the internet. The
registry (plain HTTP) holds synthetic releases at quay.io's paths
(openshift-release-dev/ocp-release, openshift-release-dev/ocp-v4.0-art-dev),
their payloads naming this registry instead of quay.io, and a small operator
catalog at redhat/redhat-operator-index:v4.16 with its bundle and related
images. The update graph lists the releases in channel stable-4.16, one
upgrade edge between consecutive versions. Everything is in memory and gone
when it stops.`,
		Example:     `  hcpmirror-lab upstream serve --addr 127.0.0.1:0 --graph-addr 127.0.0.1:0`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cli.AnnotationStopsOnSignal: "true"}, // serves until interrupted
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(versions) == 0 {
				return errors.New("--version: at least one is needed")
			}
			ctx := cmd.Context()
			r, err := labregistry.Listen(addr)
			if err != nil {
				return err
			}
			defer r.Close()
			graph := &cincinnati.Graph{Version: 1}
			for i, v := range versions {
				pub, err := publishUpstream(ctx, r.Addr, v, components, int64(i+1))
				if err != nil {
					return err
				}
				graph.Nodes = append(graph.Nodes, cincinnati.Node{Version: pub.Version, Payload: pub.MirrorRelease})
				if i > 0 {
					graph.Edges = append(graph.Edges, [2]int{i - 1, i})
				}
			}
			cat, err := catalogtest.Build(r.Addr)
			if err != nil {
				return fmt.Errorf("building the catalog: %w", err)
			}
			if err := cat.Push(ctx); err != nil {
				return fmt.Errorf("pushing the catalog: %w", err)
			}
			ln, err := net.Listen("tcp", graphAddr)
			if err != nil {
				return fmt.Errorf("--graph-addr: %w", err)
			}
			srv := &http.Server{Handler: cincinnati.Handler(map[string]map[string]*cincinnati.Graph{upstreamChannel: {"amd64": graph}}), ReadHeaderTimeout: 10 * time.Second}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "upstream registry serving on %s (http)\n", r.Addr)
			fmt.Fprintf(out, "update graph: http://%s/graph (channel %s: %s)\n", ln.Addr(), upstreamChannel, strings.Join(versions, ", "))
			fmt.Fprintf(out, "release: %s/%s:%s-x86_64\n", r.Addr, upstreamReleaseRepo, versions[len(versions)-1])
			fmt.Fprintf(out, "catalog: %s\n", cat.Ref)
			fmt.Fprintf(out, "ready; press Ctrl-C to stop\n")
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "registry address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&graphAddr, "graph-addr", "127.0.0.1:0", "update graph address to listen on")
	cmd.Flags().StringSliceVar(&versions, "version", []string{"4.16.2", synthrelease.DefaultVersion}, "release versions to publish, oldest first")
	cmd.Flags().IntVar(&components, "components", synthrelease.DefaultComponentCount, "components per release")
	return cmd
}

// publishUpstream pushes one release at quay.io's paths, its payload naming
// the upstream registry instead of quay.io.
func publishUpstream(ctx context.Context, host, version string, components int, seed int64) (*synthrelease.Published, error) {
	rename := func(s string) string {
		return strings.ReplaceAll(s, "quay.io/openshift-release-dev/", host+"/openshift-release-dev/")
	}
	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{
		Destination:    host,
		Insecure:       true,
		Version:        version,
		Components:     components,
		Seed:           seed,
		ComponentsRepo: upstreamComponentsRepo,
		ReleaseRepo:    upstreamReleaseRepo,
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
		return nil, fmt.Errorf("publishing %s: %w", version, err)
	}
	return pub, nil
}
