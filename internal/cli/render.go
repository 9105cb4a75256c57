package cli

import (
	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/operator"
)

func newRenderCommand() *cobra.Command {
	var o operator.InstallOptions
	out := newOutputFlags(formatYAML, formatJSON)
	cmd := &cobra.Command{
		Use:   "render [--namespace NS] [--image IMAGE] [-o yaml|json]",
		Short: "Print the manifests that install the operator",
		Long: `Render prints the operator's namespace, service account, least-privilege
RBAC and Deployment as one YAML stream:

  hcpmirror render --image registry.sample.lab:5000/hcpmirror/hcpmirror:v0.1 | kubectl apply -f -

In a disconnected data center the image must itself come from the mirror.
With -o json the same objects are printed as one kind: List.

--crds adds hcpmirror's own CRDs for the mirror sets, HostedCluster and
HostedControlPlane, for plain Kubernetes test clusters only: they declare only
the fields hcpmirror uses, and applied over OpenShift's or HyperShift's full
CRDs they would make the API server drop every other field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stream, err := operator.Render(o)
			if err != nil {
				return err
			}
			return out.printManifests(cmd.OutOrStdout(), stream)
		},
	}
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "hcpmirror", "namespace of the operator")
	cmd.Flags().StringVar(&o.Image, "image", "quay.io/hcpmirror/hcpmirror:latest", "operator image")
	cmd.Flags().BoolVar(&o.CRDs, "crds", false, "also print hcpmirror's reduced CRDs (test clusters only, never over OpenShift/HyperShift)")
	cmd.Flags().BoolVar(&o.Companion, "companion", false, "render the operator for running beside HyperShift's (operator --companion), with only that mode's RBAC")
	cmd.Flags().BoolVar(&o.PinCatalogs, "pin-catalogs", false, "run the operator with --pin-catalogs, with the RBAC to patch HostedCluster annotations")
	cmd.Flags().StringArrayVar(&o.Args, "arg", nil, "extra operator argument, e.g. --arg=--registry-overrides=src=mirror; repeatable")
	out.register(cmd)
	return cmd
}
