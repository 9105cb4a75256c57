// Package operator assembles hcpmirror's management-side operator: a
// controller-runtime manager with the HostedCluster and data-plane controllers, leader
// election, health and readiness probes and metrics. The `hcpmirror operator`
// command and the tests start it through the same function, so tests run
// what ships.
package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogpins"
	"github.com/hcpmirror/hcpmirror/internal/controller/companion"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// Options configure the operator. Zero values are usable defaults except
// where noted.
type Options struct {
	// MetricsAddr serves Prometheus metrics; "0" disables them. Default ":8080".
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz; "0" disables them. Default ":8081".
	ProbeAddr string
	// LeaderElection makes only one replica reconcile at a time.
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease; required with LeaderElection
	// outside a pod.
	LeaderElectionNamespace string
	// StaticOverrides are the operator's own --registry-overrides.
	StaticOverrides map[string]string
	// Image is the operator's own image: the control-plane-operator and
	// ignition-server deployments run it. Default DefaultImage.
	Image string
	// Releases reads release payloads through mirrors; nil skips lookups.
	Releases hostedcluster.ReleaseProvider
	// Kinds overrides discovery of the served mirror-set kinds (tests).
	Kinds *mirrorsets.Kinds
	// Workers is how many HostedClusters each controller reconciles at
	// once. Default DefaultWorkers.
	Workers int
	// KubeAPIQPS and KubeAPIBurst are the client's rate limit towards the
	// API server (kube-controller-manager's --kube-api-qps and
	// --kube-api-burst). They replace whatever the rest.Config says; zero
	// means DefaultKubeAPIQPS and DefaultKubeAPIBurst.
	KubeAPIQPS   float32
	KubeAPIBurst int
	// Companion runs beside HyperShift's own operator (package
	// internal/controller/companion): no namespaces, HostedControlPlanes or
	// Deployments are written. Without it the operator refuses to start
	// where HyperShift's operator is found.
	Companion bool
	// PinCatalogs keeps the OLM catalog pins of opted-in HostedClusters
	// current every PinInterval (internal/controller/catalogpins).
	PinCatalogs bool
	PinInterval time.Duration
	// RegistryOptions are the trust options pins are resolved with.
	RegistryOptions []registry.Option
}

// Client defaults, sized so that one mirror-set edit reaches 500 hosted
// control planes in well under 30 s: an edit costs about six requests per
// HostedCluster (a patch of the registries ConfigMap and of each deployment
// that carries overrides, typically four, and one event; BenchmarkPropagation
// counts them), 3,000 for 500 clusters, 15 s at 200 per second. client-go's
// own defaults (QPS 5, burst 10), which the operator had before, took
// 6.6 minutes for 500 clusters. API Priority and Fairness protects the API
// server from a client that asks for more than it can serve.
const (
	DefaultKubeAPIQPS   float32 = 200
	DefaultKubeAPIBurst         = 400
	// DefaultWorkers keeps enough reconciles in flight to use the QPS
	// budget (each sends its namespace's writes together); 64 measured no
	// faster, only more conflicts.
	DefaultWorkers = 16
)

// DefaultPinInterval is how often --pin-catalogs re-resolves catalog tags.
const DefaultPinInterval = 5 * time.Minute

// DefaultImage is the operator's image when none is given (`hcpmirror
// render --image` always gives one).
const DefaultImage = "quay.io/hcpmirror/hcpmirror:latest"

// New builds the manager with every controller registered.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = ":8080"
	}
	if opts.ProbeAddr == "" {
		opts.ProbeAddr = ":8081"
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.KubeAPIQPS <= 0 {
		opts.KubeAPIQPS = DefaultKubeAPIQPS
	}
	if opts.KubeAPIBurst <= 0 {
		opts.KubeAPIBurst = DefaultKubeAPIBurst
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = opts.KubeAPIQPS, opts.KubeAPIBurst
	cfg.RateLimiter = nil
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	kinds := mirrorsets.All
	if opts.Kinds != nil {
		kinds = *opts.Kinds
	} else {
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, err
		}
		if kinds, err = mirrorsets.Discover(dc); err != nil {
			return nil, err
		}
		// No kind served would read as "no mirror sets" and wipe every
		// override in every hosted control plane: refuse to start instead
		// (a pod restarts until the CRDs are established).
		if !kinds.ICSP && !kinds.IDMS && !kinds.ITMS {
			return nil, errors.New("the API server serves none of ImageContentSourcePolicy (operator.openshift.io/v1alpha1), ImageDigestMirrorSet or ImageTagMirrorSet (config.openshift.io/v1): not starting, as that would remove every override")
		}
		ctrl.Log.WithName("operator").Info("mirror-set kinds served", "ImageContentSourcePolicy", kinds.ICSP, "ImageDigestMirrorSet", kinds.IDMS, "ImageTagMirrorSet", kinds.ITMS)
	}
	if !opts.Companion {
		// Before the manager exists: a refusal writes nothing, not even a
		// leader-election Lease.
		c, err := client.New(cfg, client.Options{Scheme: install.NewScheme()})
		if err != nil {
			return nil, err
		}
		found, err := DetectHyperShift(context.Background(), c)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			return nil, refusal(found)
		}
	}
	renew := 10 * time.Second
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  install.NewScheme(),
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        "hcpmirror-operator",
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		RenewDeadline:           &renew,
		// A restarted replica must not wait out a stale lease before converging.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	sets := &mirrorsets.Reader{Client: mgr.GetClient(), Kinds: kinds}
	if opts.PinCatalogs {
		if opts.PinInterval <= 0 {
			opts.PinInterval = DefaultPinInterval
		}
		if err := mgr.Add(&catalogpins.Runner{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Sets: sets,
			Interval: opts.PinInterval, Registry: opts.RegistryOptions}); err != nil {
			return nil, err
		}
	}
	if opts.Companion {
		cr := &companion.Reconciler{Client: mgr.GetClient(), Kinds: kinds, Static: opts.StaticOverrides}
		if err := cr.SetupWithManager(mgr, opts.Workers); err != nil {
			return nil, fmt.Errorf("setting up the companion controller: %w", err)
		}
		return mgr, nil
	}
	r := &hostedcluster.Reconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Sets:            sets,
		Releases:        opts.Releases,
		Recorder:        mgr.GetEventRecorder("hcpmirror-operator"),
		StaticOverrides: opts.StaticOverrides,
		Image:           opts.Image,
	}
	if err := r.SetupWithManager(mgr, kinds, opts.Workers); err != nil {
		return nil, fmt.Errorf("setting up the HostedCluster controller: %w", err)
	}
	return mgr, nil
}
