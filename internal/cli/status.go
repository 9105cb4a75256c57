package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

func newStatusCommand() *cobra.Command {
	var kube kubeFlags
	var namespace string
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	var static []string
	var companion bool
	cmd := &cobra.Command{
		Use:   "status [--kubeconfig F] [-n NAMESPACE] [-o text|json|yaml] [HOSTEDCLUSTER]",
		Short: "Show whether every hosted control plane carries the overrides the mirror sets mean now",
		Long: `Status checks propagation the way the user's guide says to check it by hand,
for every hosted control plane at once: for each deployment and container in
the hosted control plane namespace, the --registry-overrides argument and the
OPENSHIFT_IMG_OVERRIDES variable it carries, decoded, against what the
management cluster's mirror sets mean now; the registries ConfigMap; and where
the release image was read from.

Exit status 1 on any drift, or when the mirror sets are invalid.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var staticMap map[string]string
			if len(static) > 0 {
				m, err := overrides.DecodeFlag(static...)
				if err != nil {
					return usageErrorf("--registry-overrides: %w", err)
				}
				staticMap = m
			}
			cfg, err := kube.restConfig()
			if err != nil {
				return fmt.Errorf("locating the management cluster: %w", err)
			}
			c, err := client.New(cfg, client.Options{Scheme: install.NewScheme()})
			if err != nil {
				return err
			}
			dc, err := discovery.NewDiscoveryClientForConfig(cfg)
			if err != nil {
				return err
			}
			kinds, err := mirrorsets.Discover(dc)
			if err != nil {
				return unreachable(cfg, err)
			}
			var only *types.NamespacedName
			if len(args) == 1 {
				nn := types.NamespacedName{Namespace: namespace, Name: args[0]}
				if ns, name, ok := strings.Cut(args[0], "/"); ok {
					nn = types.NamespacedName{Namespace: ns, Name: name}
				}
				if nn.Namespace == "" {
					nn.Namespace = "clusters"
				}
				only = &nn
			}
			rep, err := operator.StatusFor(cmd.Context(), c, kinds, staticMap, only, companion)
			if err != nil {
				return unreachable(cfg, err)
			}
			if err := out.print(cmd.OutOrStdout(), rep, func(w io.Writer) error {
				rep.WriteText(w)
				return nil
			}); err != nil {
				return err
			}
			if rep.Drift() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	kube.register(cmd)
	kube.registerRequestTimeout(cmd)
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "clusters", "namespace of HOSTEDCLUSTER (or give namespace/name)")
	out.register(cmd)
	cmd.Flags().BoolVar(&companion, "companion", false, "the operator runs beside HyperShift (operator --companion): compare HyperShift's Deployments only, expect none of hcpmirror's")
	cmd.Flags().StringArrayVar(&static, "registry-overrides", nil, "the operator's static --registry-overrides, so they are not reported as drift")
	return cmd
}
