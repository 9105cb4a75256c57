package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

func newOperatorCommand() *cobra.Command {
	var kube kubeFlags
	var opts operator.Options
	var static []string
	var logs logFlags
	var reg registryFlags
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the management-side operator",
		Long: `Operator watches the management cluster's ImageContentSourcePolicy,
ImageDigestMirrorSet and ImageTagMirrorSet objects and every HostedCluster.
For each HostedCluster it keeps the hosted control plane namespace
(<namespace>-<name>) in line with what the mirror sets mean now: the
HostedControlPlane, the registries ConfigMap, the control-plane-operator and
ignition-server deployments (this binary's subcommands, in --image), and the --registry-overrides argument and
OPENSHIFT_IMG_OVERRIDES variable of every other deployment that carries them.
A mirror-set change reaches every hosted control plane within seconds without
restarting the operator (deployments whose carriers change roll out, as any
pod-template change does). Status conditions on each HostedCluster report it:
ValidMirrorSets, ReleaseImageResolved, RegistryOverridesPropagated and
ValidImageContentSources.

Install it with 'hcpmirror render | kubectl apply -f -'.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{AnnotationStopsOnSignal: "true"}, // SIGTERM is how a pod stops
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(logs.logger(cmd.ErrOrStderr()))
			if len(static) > 0 {
				m, err := overrides.DecodeFlag(static...)
				if err != nil {
					return usageErrorf("--registry-overrides: %w", err)
				}
				// They are re-encoded into every hosted control plane: a map
				// that cannot be must fail here, not on every reconcile.
				if _, err := overrides.EncodeFlag(m); err != nil {
					return usageErrorf("--registry-overrides: %w", err)
				}
				opts.StaticOverrides = m
			}
			cfg, err := kube.restConfig()
			if err != nil {
				return fmt.Errorf("locating the management cluster: %w", err)
			}
			regOpts := append([]registry.Option{registry.WithoutDefaultAuthFile()}, reg.options()...)
			provider, err := releaseinfo.New(releaseinfo.WithRegistryOptions(regOpts...), releaseinfo.RequireBootImages())
			if err != nil {
				return err
			}
			defer provider.Close()
			opts.Releases = operator.Releases(provider)
			opts.RegistryOptions = reg.options()
			mgr, err := operator.New(cfg, opts)
			if err != nil {
				return unreachable(cfg, err)
			}
			return mgr.Start(cmd.Context())
		},
	}
	kube.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", `address of the Prometheus metrics endpoint ("0" disables it)`)
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", `address of /healthz and /readyz ("0" disables them)`)
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect a leader so that only one replica reconciles")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's namespace)")
	f.StringArrayVar(&static, "registry-overrides", nil,
		"static overrides src=mirror,src2=mirror2 (HyperShift's format) that win over mirror sets and rewrite pod images; repeatable")
	f.StringVar(&opts.Image, "image", operator.DefaultImage,
		"the operator's own image, which the control-plane-operator and ignition-server deployments run ('hcpmirror render --image' sets it)")
	f.IntVar(&opts.Workers, "workers", operator.DefaultWorkers, "HostedClusters reconciled at once, per controller")
	f.Float32Var(&opts.KubeAPIQPS, "kube-api-qps", operator.DefaultKubeAPIQPS, "queries per second to the API server")
	f.IntVar(&opts.KubeAPIBurst, "kube-api-burst", operator.DefaultKubeAPIBurst, "burst of queries to the API server")
	f.BoolVar(&opts.Companion, "companion", false,
		"run beside HyperShift's own operator: write no namespace, HostedControlPlane or Deployment, only the derived release ImageDigestMirrorSet, the InjectedOverridesMatch condition and (with --pin-catalogs) catalog pins; "+
			"without it the operator refuses to start where HyperShift manages HostedClusters (its operator Deployment in any namespace, HostedClusters with its finalizer, HostedControlPlanes it wrote)")
	f.BoolVar(&opts.PinCatalogs, "pin-catalogs", false,
		"keep the four OLM catalog pin annotations of HostedClusters annotated hcpmirror.io/pin-catalogs=true at the digests their tags have in the mirrors")
	f.DurationVar(&opts.PinInterval, "pin-interval", operator.DefaultPinInterval, "how often --pin-catalogs re-resolves the catalog tags")
	reg.registerTrust(cmd)
	logs.register(f)
	return cmd
}
