package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogpins"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

func newCatalogsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalogs",
		Short: "OLM catalog annotations of HostedClusters: pins and overrides",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCatalogsPinCommand(), newCatalogsOverridesCommand())
	return cmd
}

func newCatalogsOverridesCommand() *cobra.Command {
	var sets setFlags
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "overrides -f PATH... [-o text|json|yaml]",
		Short: "Derive the olm-catalogs-is-registry-overrides annotation from the management mirror sets",
		Long: `Overrides prints the hypershift.openshift.io/olm-catalogs-is-registry-overrides
value that sends the four default catalog images to the mirrors the management
mirror sets give them, in the same order, the way sync-ics derives
imageContentSources. Sources that cover no default catalog are left out;
wildcard sources cannot be written in this annotation and are left out too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			v := olmcatalogs.OverridesFromConfig(cfg)
			if v == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: no mirror set covers a default catalog image (registry.redhat.io/redhat/<index>); the annotation would be empty")
			}
			res := map[string]map[string]string{"annotations": {olmcatalogs.OverridesAnnotation: v}}
			return out.print(cmd.OutOrStdout(), res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s=%s\n", olmcatalogs.OverridesAnnotation, v)
				return err
			})
		},
	}
	sets.register(cmd)
	out.register(cmd)
	return cmd
}

// pinReport is `catalogs pin -o json|yaml`: a stable interface.
type pinReport struct {
	HostedCluster string                      `json:"hostedCluster"`
	Annotations   map[string]string           `json:"annotations"`
	Catalogs      []olmcatalogs.PinnedCatalog `json:"catalogs"`
	Applied       bool                        `json:"applied"`
}

func newCatalogsPinCommand() *cobra.Command {
	var kube kubeFlags
	var reg registryFlags
	var sets setFlags
	var hcName, version string
	var apply, follow bool
	var interval time.Duration
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "pin --hostedcluster NS/NAME [-f PATH]... [--apply] [--follow [--interval D]] [-o text|json|yaml]",
		Short: "Pin a HostedCluster's four OLM catalogs to the digests their tags have in the mirrors",
		Long: `Pin resolves the four default catalog tags of the HostedCluster's release
minor (its olm-catalogs-is-registry-overrides annotation applied) through the
mirrors to digests, and prints the four
hypershift.openshift.io/<catalog>-catalog-image annotations; each pin names the
repository that served the tag, by digest. A missing tag falls back to up to
three earlier minors. Every catalog must resolve, or nothing is pinned.

The mirrors are the mirror sets given with -f, or else the management
cluster's own. --apply writes the annotations onto the HostedCluster by
server-side apply (field manager hcpmirror-catalog-pins), only when they
change. --follow re-pins every --interval, so a mirror refresh that moves a tag
reaches OperatorHub; Ctrl-C stops it.`,
		Example: `  hcpmirror catalogs pin --hostedcluster clusters/prod -f mirrorsets/ --authfile auth.json
  hcpmirror catalogs pin --hostedcluster clusters/prod --apply --follow --interval 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns, name, ok := strings.Cut(hcName, "/")
			if !ok || ns == "" || name == "" {
				return usageErrorf("--hostedcluster wants NAMESPACE/NAME, got %q", hcName)
			}
			if interval <= 0 {
				return usageErrorf("--interval must be positive")
			}
			minor := -1
			if version != "" {
				m, err := olmcatalogs.MinorFromVersion(version)
				if err != nil {
					return usageErrorf("--release-version: %v", err)
				}
				minor = m
			}
			var fileCfg *mirrorset.Config
			if len(sets.paths) > 0 {
				c, _, err := sets.compile(cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				fileCfg = c
			}
			rc, err := kube.restConfig()
			if err != nil {
				return fmt.Errorf("locating the management cluster: %w", err)
			}
			c, err := client.New(rc, client.Options{Scheme: install.NewScheme()})
			if err != nil {
				return err
			}
			rclient, err := registry.New(reg.options()...)
			if err != nil {
				return err
			}
			defer rclient.Close()
			var reader *mirrorsets.Reader
			if fileCfg == nil {
				dc, err := discovery.NewDiscoveryClientForConfig(rc)
				if err != nil {
					return err
				}
				kinds, err := mirrorsets.Discover(dc)
				if err != nil {
					return unreachable(rc, err)
				}
				reader = &mirrorsets.Reader{Client: c, Kinds: kinds}
			}
			once := func(ctx context.Context) (*pinReport, error) {
				cfg := fileCfg
				if reader != nil {
					snap, err := reader.Read(ctx)
					if err != nil {
						return nil, unreachable(rc, err)
					}
					if snap.Invalid != nil {
						return nil, fmt.Errorf("the management cluster's mirror sets are invalid:\n%w", snap.Invalid)
					}
					cfg = snap.Config
				}
				var hc hypershiftv1beta1.HostedCluster
				if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &hc); err != nil {
					return nil, fmt.Errorf("reading HostedCluster %s/%s: %w", ns, name, err)
				}
				pins, err := catalogpins.Compute(ctx, cfg, rclient.Head, &hc, minor)
				if err != nil {
					return nil, err
				}
				rep := &pinReport{HostedCluster: ns + "/" + name, Annotations: olmcatalogs.PinAnnotations(pins), Catalogs: pins}
				if apply {
					if rep.Applied, err = catalogpins.Apply(ctx, c, &hc, rep.Annotations); err != nil {
						return nil, err
					}
				}
				return rep, nil
			}
			print := func(rep *pinReport) error {
				return out.print(cmd.OutOrStdout(), rep, func(w io.Writer) error {
					for _, p := range rep.Catalogs {
						fmt.Fprintf(w, "%s=%s\n", olmcatalogs.Catalogs[indexOf(p.Catalog)].PinAnnotation(), p.Pin)
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %s served by %s\n", p.Catalog, p.Tag, p.Served)
					}
					if rep.Applied {
						fmt.Fprintf(cmd.ErrOrStderr(), "applied to HostedCluster %s\n", rep.HostedCluster)
					}
					return nil
				})
			}
			ctx := cmd.Context()
			rep, err := once(ctx)
			if err != nil {
				return err
			}
			if err := print(rep); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			last := fmt.Sprint(rep.Annotations)
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return context.Cause(ctx)
				case <-t.C:
				}
				rep, err := once(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return context.Cause(ctx)
					}
					// A mirror down for a moment is no reason to stop
					// following: say so and try again next time.
					fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", err)
					continue
				}
				if now := fmt.Sprint(rep.Annotations); now != last || rep.Applied {
					last = now
					if err := print(rep); err != nil {
						return err
					}
				}
			}
		},
	}
	cmd.Flags().StringVar(&hcName, "hostedcluster", "", "the HostedCluster, NAMESPACE/NAME (required)")
	_ = cmd.MarkFlagRequired("hostedcluster")
	cmd.Flags().StringVar(&version, "release-version", "", "release version (4.N[.P]) whose catalogs to pin; default: read from spec.release.image's tag")
	cmd.Flags().BoolVar(&apply, "apply", false, "write the annotations onto the HostedCluster (server-side apply)")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep running, re-pinning every --interval when a tag moved")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Minute, "how often --follow re-resolves the tags")
	sets.register(cmd)
	kube.register(cmd)
	reg.register(cmd)
	out.register(cmd)
	return cmd
}

func indexOf(catalog string) int {
	for i, c := range olmcatalogs.Catalogs {
		if c.Name == catalog {
			return i
		}
	}
	return 0
}
