// Package release is the control-plane-operator's controller that reads the
// HostedControlPlane's release through the overrides the operator was
// started with (OPENSHIFT_IMG_OVERRIDES and --registry-overrides, as
// HyperShift's control-plane-operator does) with the namespace's pull
// secret, and reports it in the HostedControlPlane's status.
package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Resync is how often a release that was read is read again (a tag may
// move; the provider's cache makes an unchanged one cheap); a failed lookup
// is retried after RetryAfter.
const (
	Resync     = 10 * time.Minute
	RetryAfter = 30 * time.Second
)

// Reconciler reads the release of the HostedControlPlanes in its namespace.
type Reconciler struct {
	Client   client.Client
	Releases hostedcluster.ReleaseProvider
	// Mirrors are the overrides the process started with, compiled.
	Mirrors *mirrorset.Config
}

// SetupWithManager registers the controller: HostedControlPlanes (spec
// changes) and the pull secrets of the namespace.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("release").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(dataplane.ControlPlanesOf(r.Client)),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == PullSecretName }))).
		Complete(r)
}

// PullSecretName is the Secret the management operator copies the
// HostedCluster's pull secret into, as HyperShift names it.
const PullSecretName = "pull-secret"

// Reconcile reads the release and writes status.releaseImage, version,
// releaseServedBy (only on success: a failure keeps the last good values)
// and ReleaseImageResolved, whatever happened.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (_ reconcile.Result, retErr error) {
	hcp := &hypershiftv1beta1.HostedControlPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, hcp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hcp.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var out outcome
	defer func() {
		if err := conditions.ApplyControlPlane(ctx, r.Client, hcp, FieldOwner, out.conditions(hcp.Generation)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedControlPlane status: %w", err))
		}
	}()
	if r.Releases == nil {
		out.disabled = true
		return reconcile.Result{}, nil
	}
	out.release, out.reason, out.err = r.lookup(ctx, hcp)
	if out.err != nil {
		return reconcile.Result{RequeueAfter: RetryAfter}, nil
	}
	st := hcp.Status
	if st.ReleaseImage != out.release.Image || st.Version != out.release.Version || st.ReleaseServedBy != out.release.ServedBy {
		before := hcp.DeepCopy()
		hcp.Status.ReleaseImage, hcp.Status.Version, hcp.Status.ReleaseServedBy = out.release.Image, out.release.Version, out.release.ServedBy
		if err := r.Client.Status().Patch(ctx, hcp, client.MergeFrom(before)); err != nil {
			return reconcile.Result{}, fmt.Errorf("writing the release to HostedControlPlane %s status: %w", req, err)
		}
	}
	return reconcile.Result{RequeueAfter: Resync}, nil
}

func (r *Reconciler) lookup(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane) (*hostedcluster.Release, string, error) {
	data, reason, err := hostedcluster.ReadPullSecret(ctx, r.Client, client.ObjectKey{Namespace: hcp.Namespace, Name: hcp.Spec.PullSecret.Name})
	if err != nil {
		return nil, reason, err
	}
	rel, err := r.Releases.Lookup(ctx, r.Mirrors, hcp.Spec.ReleaseImage, data)
	if err != nil {
		return nil, hypershiftv1beta1.ReasonReleaseLookupFailed, fmt.Errorf("reading release %s through the overrides: %w", hcp.Spec.ReleaseImage, err)
	}
	return rel, "", nil
}
