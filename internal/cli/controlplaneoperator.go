package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	"github.com/hcpmirror/hcpmirror/internal/controlplaneoperator"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

func newControlPlaneOperatorCommand() *cobra.Command {
	var kube kubeFlags
	var opts controlplaneoperator.Options
	var flagOverrides []string
	var logs logFlags
	var reg registryFlags
	cmd := &cobra.Command{
		Use:   "control-plane-operator",
		Short: "Run the control-plane side in one hosted control plane namespace",
		Long: `Control-plane-operator runs in a hosted control plane namespace, as HyperShift's
does, and is deployed there by 'hcpmirror operator'. At start it reads
OPENSHIFT_IMG_OVERRIDES and --registry-overrides and reads the
HostedControlPlane's release through them with the pull-secret Secret,
reporting it in the HostedControlPlane's status (ReleaseImageResolved). It
writes what the control plane keeps for the data plane: the nodes' ConfigMap
ignition-config-40-image-content-source and the guest cluster's
ImageDigestMirrorSet "cluster" (through Secret service-network-admin-kubeconfig),
the ignition server's CA and serving certificate, and one token Secret per
NodePool, rotated.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{AnnotationStopsOnSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(logs.logger(cmd.ErrOrStderr()))
			flag, err := overrides.DecodeFlag(flagOverrides...)
			if err != nil {
				return fmt.Errorf("--registry-overrides: %w", err)
			}
			mirrors, err := overrides.ToConfig(overrides.DecodeEnv(os.Getenv("OPENSHIFT_IMG_OVERRIDES")), flag)
			if err != nil {
				return fmt.Errorf("OPENSHIFT_IMG_OVERRIDES and --registry-overrides: %w", err)
			}
			opts.Mirrors = mirrors
			opts.EnvOverrides, opts.FlagOverrides = os.Getenv("OPENSHIFT_IMG_OVERRIDES"), flagOverrides
			cfg, err := kube.restConfig()
			if err != nil {
				return fmt.Errorf("locating the management cluster: %w", err)
			}
			regOpts := append([]registry.Option{registry.WithoutDefaultAuthFile()}, reg.options()...)
			provider, err := releaseinfo.New(releaseinfo.WithRegistryOptions(regOpts...))
			if err != nil {
				return err
			}
			defer provider.Close()
			opts.Releases = operator.Releases(provider)
			mgr, err := controlplaneoperator.New(cfg, opts)
			if err != nil {
				return unreachable(cfg, err)
			}
			return mgr.Start(cmd.Context())
		},
	}
	kube.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "hosted control plane namespace (default: $POD_NAMESPACE)")
	f.StringVar(&opts.NodePoolNamespace, "nodepool-namespace", "", "the HostedCluster's namespace, where its NodePools are")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", `address of the Prometheus metrics endpoint ("0" disables it)`)
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", `address of /healthz and /readyz ("0" disables them)`)
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect a leader (Lease in --namespace) so that only one replica reconciles")
	f.StringArrayVar(&flagOverrides, "registry-overrides", nil, "overrides src=mirror,src2=mirror2 (HyperShift's format), tried after OPENSHIFT_IMG_OVERRIDES; repeatable")
	f.StringVar(&opts.Image, "image", operator.DefaultImage,
		"this binary's image, which the catalog servers it writes run ('hcpmirror operator' passes its own --image)")
	f.DurationVar(&opts.TokenRotation, "token-rotation-interval", ignitiontokens.DefaultRotation, "how often each NodePool's ignition token is replaced")
	f.DurationVar(&opts.TokenGrace, "token-grace-period", ignitiontokens.DefaultGrace, "how long a replaced token is still accepted")
	reg.registerTrust(cmd)
	logs.register(f)
	return cmd
}
