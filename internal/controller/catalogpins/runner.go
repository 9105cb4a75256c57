package catalogpins

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// Runner is the operator's --pin-catalogs: every Interval it re-pins each
// HostedCluster that carries OptInAnnotation "true", through the management
// mirror sets, with the HostedCluster's pull secret, writing only when a
// digest moved. Tags are polled because a registry does not announce that a
// tag moved.
type Runner struct {
	Client    client.Client
	APIReader client.Reader
	Sets      *mirrorsets.Reader
	Interval  time.Duration
	// Registry are the trust options (--ca-file …); credentials come from
	// each HostedCluster's pull secret.
	Registry []registry.Option
}

// Start implements manager.Runnable.
func (r *Runner) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("catalog-pins")
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if err := r.Once(ctx); err != nil {
			logger.Error(err, "pinning catalogs")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: one replica pins.
func (r *Runner) NeedLeaderElection() bool { return true }

// Once is one round over every opted-in HostedCluster; errors of one
// cluster do not stop the others.
func (r *Runner) Once(ctx context.Context) error {
	snap, err := r.Sets.Read(ctx)
	if err != nil {
		return err
	}
	if snap.Invalid != nil {
		return fmt.Errorf("mirror sets invalid, catalogs not re-pinned: %w", snap.Invalid)
	}
	var list hypershiftv1beta1.HostedClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		return fmt.Errorf("listing HostedClusters: %w", err)
	}
	var firstErr error
	for i := range list.Items {
		hc := &list.Items[i]
		if hc.Annotations[OptInAnnotation] != "true" {
			continue
		}
		if err := r.pin(ctx, snap, hc); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (r *Runner) pin(ctx context.Context, snap *mirrorsets.Snapshot, hc *hypershiftv1beta1.HostedCluster) error {
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Spec.PullSecret.Name}
	if err := r.APIReader.Get(ctx, key, &secret); err != nil {
		return fmt.Errorf("reading pull secret %s: %w", key, err)
	}
	opts := append([]registry.Option{registry.WithoutDefaultAuthFile(), registry.WithPullSecret(secret.Data[corev1.DockerConfigJsonKey])}, r.Registry...)
	rc, err := registry.New(opts...)
	if err != nil {
		return err
	}
	defer rc.Close()
	pins, err := Compute(ctx, snap.Config, rc.Head, hc, -1)
	if err != nil {
		return err
	}
	_, err = Apply(ctx, r.Client, hc, olmcatalogs.PinAnnotations(pins))
	return err
}
