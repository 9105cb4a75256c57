// Package controlplaneoperator assembles `hcpmirror control-plane-operator`,
// which runs in one hosted control plane namespace as HyperShift's
// control-plane-operator does: a controller-runtime manager watching only
// that namespace (and the HostedCluster namespace's NodePools), with the
// release, data-plane, ignition-PKI and token controllers, leader election,
// health and readiness probes and metrics. The command and the tests start
// it through the same function.
package controlplaneoperator

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitionpki"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	"github.com/hcpmirror/hcpmirror/internal/controller/release"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Options configure the control-plane-operator.
type Options struct {
	// Namespace is the hosted control plane namespace; required.
	Namespace string
	// NodePoolNamespace is the HostedCluster's namespace, where its
	// NodePools are; required.
	NodePoolNamespace string
	// MetricsAddr serves Prometheus metrics; "0" disables them. Default ":8080".
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz; "0" disables them. Default ":8081".
	ProbeAddr string
	// LeaderElection makes only one replica reconcile; the Lease is in Namespace.
	LeaderElection bool
	// Mirrors are the overrides the process was started with
	// (OPENSHIFT_IMG_OVERRIDES, --registry-overrides), compiled; nil is none.
	Mirrors *mirrorset.Config
	// Releases reads release payloads; nil skips lookups (ReleaseImageResolved Unknown).
	Releases hostedcluster.ReleaseProvider
	// Image is this binary's image, which the components the
	// control-plane-operator writes run (the catalog servers): the
	// management operator passes its own (--image). Required.
	Image string
	// EnvOverrides and FlagOverrides are the raw OPENSHIFT_IMG_OVERRIDES
	// and --registry-overrides values (Mirrors compiled), passed on to the
	// catalog servers.
	EnvOverrides  string
	FlagOverrides []string
	// TokenRotation and TokenGrace drive the NodePool token rotation;
	// zero means the ignitiontokens defaults.
	TokenRotation, TokenGrace time.Duration
}

// LeaderElectionID is the Lease the replicas of one namespace share.
const LeaderElectionID = "hcpmirror-control-plane-operator"

// New builds the manager with every controller registered.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	if opts.Namespace == "" {
		return nil, errors.New("the hosted control plane namespace is not known: give --namespace or set POD_NAMESPACE")
	}
	if opts.NodePoolNamespace == "" {
		return nil, errors.New("the HostedCluster's namespace is not known: give --nodepool-namespace")
	}
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = ":8080"
	}
	if opts.ProbeAddr == "" {
		opts.ProbeAddr = ":8081"
	}
	if opts.TokenRotation <= 0 {
		opts.TokenRotation = ignitiontokens.DefaultRotation
	}
	if opts.TokenGrace <= 0 {
		opts.TokenGrace = ignitiontokens.DefaultGrace
	}
	if opts.Mirrors == nil {
		m, err := mirrorset.Compile(nil)
		if err != nil {
			return nil, err
		}
		opts.Mirrors = m
	}
	renew := 10 * time.Second
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: install.NewScheme(),
		Cache: cache.Options{
			// Only its own namespace: the Role it has is namespaced.
			DefaultNamespaces: map[string]cache.Config{opts.Namespace: {}},
			ByObject: map[client.Object]cache.ByObject{
				&hypershiftv1beta1.NodePool{}: {Namespaces: map[string]cache.Config{opts.NodePoolNamespace: {}}},
			},
		},
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:        opts.ProbeAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       opts.Namespace,
		RenewDeadline:                 &renew,
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
	c := mgr.GetClient()
	setups := []struct {
		name  string
		setup func(ctrl.Manager) error
	}{
		{"release", (&release.Reconciler{Client: c, Releases: opts.Releases, Mirrors: opts.Mirrors}).SetupWithManager},
		{"data-plane", (&dataplane.Reconciler{Client: c}).SetupWithManager},
		{"ignition PKI", (&ignitionpki.Reconciler{Client: c}).SetupWithManager},
		{"ignition token", (&ignitiontokens.Reconciler{Client: c, APIReader: mgr.GetAPIReader(), Namespace: opts.Namespace,
			NodePoolNamespace: opts.NodePoolNamespace, Rotation: opts.TokenRotation, Grace: opts.TokenGrace}).SetupWithManager},
		{"OLM catalogs", (&catalogs.Reconciler{Client: c, Namespace: opts.Namespace, Image: opts.Image,
			EnvOverrides: opts.EnvOverrides, FlagOverrides: opts.FlagOverrides}).Setup},
	}
	for _, s := range setups {
		if err := s.setup(mgr); err != nil {
			return nil, fmt.Errorf("setting up the %s controller: %w", s.name, err)
		}
	}
	return mgr, nil
}
