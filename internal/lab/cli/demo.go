package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/lab/demo"
)

func newDemoCommand() *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job end to end on this machine",
		Long: `Demo runs hcpmirror's main job on an embedded default, touching nothing but
127.0.0.1: a private TLS registry with basic auth, an OpenShift-like release
mirrored into it, mirror sets with NeverContactSource for the (unreachable)
sources, a check that every image of the release is reachable through them,
then a local kube-apiserver and etcd with the operator propagating the sets
into a HostedCluster's control plane, the control-plane-operator started
from the Deployment the operator wrote (as a local process, with a kubelet
stand-in) against a second API server as the guest, and a live change of
the sets.

It needs kube-apiserver and etcd binaries in --assets or KUBEBUILDER_ASSETS,
checked before anything starts; 'make demo' builds them once with
hack/envtest.sh. Without --dir the mirror sets go to a new temporary folder,
removed if the demo fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			if o.Assets == "" {
				o.Assets = os.Getenv("KUBEBUILDER_ASSETS")
			}
			if o.Binary == "" {
				// make build puts both binaries in bin/.
				if self, err := os.Executable(); err == nil {
					o.Binary = filepath.Join(filepath.Dir(self), "hcpmirror")
				}
			}
			return demo.Run(cmd.Context(), o)
		},
	}
	cmd.Flags().IntVar(&o.Components, "components", 190, "components in the synthetic release")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "where to write the mirror sets (default: a new temporary folder)")
	cmd.Flags().StringVar(&o.Assets, "assets", "", "folder with kube-apiserver and etcd (default: KUBEBUILDER_ASSETS)")
	cmd.Flags().StringVar(&o.Binary, "hcpmirror", "", "the hcpmirror binary run for the operator's image (default: hcpmirror next to this binary)")
	return cmd
}
