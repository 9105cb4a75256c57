// Package dataplane renders each HostedCluster's imageContentSources into the
// ConfigMap the ignition server puts into node configuration
// (docs/semantics.md §7.3), and reports ValidImageContentSources. It is
// independent of the management mirror sets: nodes get what the
// HostedCluster says, never the management sets, so a mirror-set change does
// not reconcile it.
package dataplane

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Reconciler reconciles the nodes' mirror configuration of HostedClusters.
type Reconciler struct {
	Client client.Client
}

// SetupWithManager registers the controller: HostedClusters (spec and
// annotation changes), their HostedControlPlanes (the ConfigMap's owner,
// created by the hostedcluster controller) and the ConfigMap itself (an
// edited or deleted one is put back).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("dataplane").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: workers}).
		For(&hypershiftv1beta1.HostedCluster{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&hypershiftv1beta1.HostedControlPlane{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return hostedcluster.HostedClusterOf(o.(*hypershiftv1beta1.HostedControlPlane))
		}), builder.WithPredicates(predicate.Funcs{
			// Only its appearance matters: it is the ConfigMap's owner.
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(hostedcluster.NamespaceOwner(r.Client)),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == DataPlaneConfigMap }))).
		Complete(r)
}

// Reconcile validates imageContentSources as an IDMS (what the guest's
// machine-config-operator will do) and writes or deletes the ConfigMap. An
// invalid list leaves the ConfigMap as it was: nodes keep their last good
// configuration, as MCO would keep it. ValidImageContentSources is written
// at the end, whatever happened.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (_ reconcile.Result, retErr error) {
	hc := &hypershiftv1beta1.HostedCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, hc); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	out := outcome{count: len(hc.Spec.ImageContentSources)}
	defer func() {
		if err := conditions.Apply(ctx, r.Client, hc, FieldOwner, out.conditions(hc.Generation, hc.Status.Conditions)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedCluster status: %w", err))
		}
	}()
	out.invalid = mirrorset.Validate([]mirrorset.Set{mirrorset.FromHostedCluster(hc)})
	if out.invalid != nil {
		return reconcile.Result{}, nil
	}
	ns := hostedcluster.ControlPlaneNamespace(hc)
	if out.count == 0 {
		if err := r.deleteConfig(ctx, ns); err != nil {
			out.writeErr = err
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, nil
	}
	hcp := &hypershiftv1beta1.HostedControlPlane{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: hc.Name}, hcp); err != nil {
		if apierrors.IsNotFound(err) {
			// The hostedcluster controller creates it; its creation
			// reconciles this one again.
			out.noControlPlane = true
			return reconcile.Result{}, nil
		}
		out.writeErr = fmt.Errorf("reading HostedControlPlane %s/%s: %w", ns, hc.Name, err)
		return reconcile.Result{}, out.writeErr
	}
	if err := r.write(ctx, hc, hcp); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			out.conflict = true
			return reconcile.Result{Requeue: true}, nil
		}
		out.writeErr = err
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, nil
}

// write puts the nodes' ConfigMap in line with a valid, non-empty
// imageContentSources.
func (r *Reconciler) write(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, hcp *hypershiftv1beta1.HostedControlPlane) error {
	cfg, err := dataPlaneConfig(hc)
	if err != nil {
		return fmt.Errorf("rendering the nodes' mirror sets: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: DataPlaneConfigMap}}
	_, err = controllerutil.CreateOrPatch(ctx, r.Client, cm, func() error {
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels[CoreIgnitionConfigLabel] = "true"
		cm.Data = map[string]string{DataPlaneConfigKey: string(cfg)}
		return controllerutil.SetControllerReference(hcp, cm, r.Client.Scheme())
	})
	if err != nil {
		return fmt.Errorf("writing ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return nil
}

// deleteConfig removes the nodes' ConfigMap of an empty imageContentSources.
func (r *Reconciler) deleteConfig(ctx context.Context, ns string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: DataPlaneConfigMap}}
	// Look in the cache first: most clusters never had the ConfigMap, and a
	// DELETE on every reconcile would be wasted API calls.
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading ConfigMap %s/%s: %w", ns, cm.Name, err)
	}
	if err := r.Client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting ConfigMap %s/%s: %w", ns, cm.Name, err)
	}
	return nil
}
