package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/ignition"
)

// Default paths of the serving certificate: where the ignition-server
// Deployment mounts the ignition-server-serving-cert Secret.
const (
	defaultIgnitionCert = "/var/run/secrets/ignition/serving-cert/tls.crt"
	defaultIgnitionKey  = "/var/run/secrets/ignition/serving-cert/tls.key"
)

func newIgnitionServerCommand() *cobra.Command {
	var kube kubeFlags
	var reg registryFlags
	var opts ignition.Options
	var serve ignition.ServeOptions
	var logs logFlags
	cmd := &cobra.Command{
		Use:   "ignition-server",
		Short: "Serve NodePools' Ignition payloads in a hosted control plane namespace",
		Long: `Ignition-server answers HyperShift's request shape, GET /ignition with
"Authorization: Bearer <token>", over HTTPS only: the token is the data.token of a
NodePool's token Secret (label hcpmirror.io/ignition-token=true), and the answer
is one Ignition v3 config built from the Secret's release, read through the
current mirrors (ConfigMap hcpmirror-registries, live; OPENSHIFT_IMG_OVERRIDES
and --registry-overrides while it is absent): the machine-config-operator
image's node files, the node registries.conf from the HostedControlPlane's
imageContentSources, the pull secret, the additional trust bundle and the
NodePool's MachineConfigs. ?arch= (or the X-Hcpmirror-Arch header) picks the
node architecture; amd64 by default.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{AnnotationStopsOnSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Namespace == "" {
				return usageErrorf("--namespace: empty, and POD_NAMESPACE is not set")
			}
			log := logs.logger(cmd.ErrOrStderr())
			ctrl.SetLogger(log)
			opts.Log = log.WithName("ignition-server")
			opts.EnvOverrides = os.Getenv(hostedcluster.EnvName)
			opts.RegistryOptions = reg.options()
			cfg, err := kube.restConfig()
			if err != nil {
				return fmt.Errorf("locating the cluster: %w", err)
			}
			s, err := ignition.New(cfg, opts)
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Serve(cmd.Context(), serve)
		},
	}
	kube.register(cmd)
	f := cmd.Flags()
	f.StringVar(&serve.Listen, "listen", ":9090", "HTTPS address of /ignition")
	f.StringVar(&serve.MetricsAddr, "metrics-addr", ":8080", `plain-HTTP address of /metrics, /healthz and /readyz ("0" disables it)`)
	f.StringVar(&serve.CertFile, "cert-file", defaultIgnitionCert, "serving certificate (PEM), re-read when it changes")
	f.StringVar(&serve.KeyFile, "key-file", defaultIgnitionKey, "serving key (PEM), re-read when it changes")
	f.StringVar(&opts.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "hosted control plane namespace (default: $POD_NAMESPACE)")
	f.StringArrayVar(&opts.FlagOverrides, "registry-overrides", nil,
		"src=mirror,src2=mirror2 (HyperShift's format), used with OPENSHIFT_IMG_OVERRIDES while the hcpmirror-registries ConfigMap is absent; repeatable")
	f.Float64Var(&opts.Rate, "rate-limit", ignition.DefaultRate, "requests per second to /ignition per client IP (429 beyond)")
	f.IntVar(&opts.Burst, "rate-burst", ignition.DefaultBurst, "requests per client IP allowed at once")
	reg.registerTrust(cmd)
	logs.register(f)
	return cmd
}
