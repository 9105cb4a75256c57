package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/livemirrors"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

func newCatalogServerCommand() *cobra.Command {
	var kube kubeFlags
	var reg registryFlags
	var opts catalogserver.RunOptions
	var namespace string
	var flagOverrides []string
	var logs logFlags
	cmd := &cobra.Command{
		Use:   "catalog-server --catalog-image REF",
		Short: "Serve an OLM catalog image's registry API, as opm serve does, pulled through the mirrors",
		Long: `Catalog-server answers what OLM asks a grpc CatalogSource (operator-registry's
api.Registry: ListPackages, GetPackage, GetBundle, ..., ListBundles) and the
grpc.health.v1 health check, over cleartext HTTP/2 on --listen, with the answers
'opm serve' gives for the same file-based catalog. The catalog is read from
--catalog-image, pulled through the current mirrors (ConfigMap
hcpmirror-registries of --namespace, live; OPENSHIFT_IMG_OVERRIDES and
--registry-overrides while it is absent, or without a namespace) with the
credentials of --authfile. A reference by tag is resolved again every
--poll-interval and the new content served when the digest moved; a reference
by digest is pulled once. Health is NOT_SERVING until the first catalog is
loaded; a failed pull later keeps the last good catalog in service. The server
listens, and answers from --cache-dir, at once; the first pull waits until the
ConfigMap's watch has synced (the API server may be out of reach meanwhile).`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{AnnotationStopsOnSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CatalogImage == "" {
				return usageErrorf("--catalog-image: required")
			}
			log := logs.logger(cmd.ErrOrStderr())
			ctrl.SetLogger(log)
			opts.Log = log.WithName("catalog-server")
			mirrors, err := livemirrors.New(os.Getenv(hostedcluster.EnvName), flagOverrides, opts.Log)
			if err != nil {
				return err
			}
			// known is closed once the mirrors are installed (or their
			// watch failed, watchErr): a pull waits for it.
			known := make(chan struct{})
			var watchErr error
			if namespace == "" {
				mirrors.Refresh(func() *corev1.ConfigMap { return nil })
				close(known)
			} else {
				cfg, err := kube.restConfig()
				if err != nil {
					return fmt.Errorf("locating the cluster: %w", err)
				}
				cs, err := kubernetes.NewForConfig(cfg)
				if err != nil {
					return err
				}
				// The watch syncs in the background: the server listens
				// and answers from --cache-dir while the API server is
				// out of reach (the informer retries the list).
				go func() {
					defer close(known)
					if err := mirrors.Watch(cmd.Context(), cs, namespace); err != nil {
						watchErr = unreachable(cfg, err)
					}
				}()
			}
			opts.Mirrors = func() (*mirrorset.Config, error) {
				select {
				case <-known:
				default:
					opts.Log.Info("waiting for the live mirrors before pulling", "namespace", namespace, "configMap", hostedcluster.RegistriesConfigMap)
					<-known
				}
				if watchErr != nil {
					return nil, watchErr
				}
				cfg, _, err := mirrors.Get()
				return cfg, err
			}
			regOpts := append([]registry.Option{registry.WithoutDefaultAuthFile()}, reg.options()...)
			if _, err := registry.New(regOpts...); err != nil {
				return err // a bad option fails at start, not at the first pull
			}
			opts.Registry = func() (*registry.Client, error) { return registry.New(regOpts...) }
			return catalogserver.Run(cmd.Context(), opts)
		},
	}
	kube.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.CatalogImage, "catalog-image", "", "the catalog image, by tag (re-resolved every --poll-interval) or by digest")
	f.StringVar(&opts.Listen, "listen", fmt.Sprintf(":%d", catalogserver.Port), "gRPC address (cleartext HTTP/2)")
	f.DurationVar(&opts.PollInterval, "poll-interval", catalogserver.DefaultPollInterval, "how often a catalog image by tag is resolved again")
	f.StringVar(&opts.CacheDir, "cache-dir", "", "directory keeping the last catalog served, answered at once after a restart (empty: none)")
	f.StringVar(&namespace, "namespace", os.Getenv("POD_NAMESPACE"), "hosted control plane namespace whose hcpmirror-registries ConfigMap is watched (default: $POD_NAMESPACE; empty: the environment's overrides only)")
	f.StringArrayVar(&flagOverrides, "registry-overrides", nil,
		"src=mirror,src2=mirror2 (HyperShift's format), used with OPENSHIFT_IMG_OVERRIDES while the hcpmirror-registries ConfigMap is absent; repeatable")
	reg.register(cmd)
	logs.register(f)
	return cmd
}
