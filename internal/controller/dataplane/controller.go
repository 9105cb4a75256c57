// Package dataplane is the control-plane-operator's controller of what the
// control plane writes for the data plane's mirrors (docs/semantics.md
// §7.3): it renders the HostedControlPlane's imageContentSources into the
// ConfigMap the ignition server puts into node configuration, applies the
// guest cluster's ImageDigestMirrorSet "cluster" (and ImageTagMirrorSet
// with hcpmirror.io/mirror-tags) through the guest kubeconfig Secret, and
// reports ValidImageContentSources and GuestMirrorSetsApplied on the
// HostedControlPlane. It is independent of the management mirror sets: nodes
// get what the HostedCluster says, never the management sets.
package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// GuestResync is how often the guest's mirror sets are checked again
// without an event: the guest API server is not watched.
const GuestResync = 5 * time.Minute

// Reconciler reconciles the data plane's mirror configuration of the
// HostedControlPlanes in the control-plane-operator's namespace.
type Reconciler struct {
	Client client.Client

	mu     sync.Mutex
	guests map[string]guestClient // by kubeconfig Secret UID
}

type guestClient struct {
	resourceVersion string
	client          client.Client
}

// SetupWithManager registers the controller: HostedControlPlanes (spec and
// annotation changes), the nodes' ConfigMap (an edited or deleted one is put
// back) and the guest kubeconfig Secret.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("dataplane").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(ControlPlanesOf(r.Client)),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == DataPlaneConfigMap }))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(ControlPlanesOf(r.Client)),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == GuestKubeconfigSecret }))).
		Complete(r)
}

// ControlPlanesOf maps an object to the HostedControlPlanes of its
// namespace (normally one): every controller of the control-plane-operator
// maps its watches this way.
func ControlPlanesOf(c client.Reader) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var list hypershiftv1beta1.HostedControlPlaneList
		if err := c.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, hcp := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&hcp)})
		}
		return reqs
	}
}

// Reconcile validates imageContentSources as an IDMS (what the guest's
// machine-config-operator will do), writes or deletes the nodes' ConfigMap
// and applies the guest's mirror sets. An invalid list leaves both as they
// were: nodes keep their last good configuration, as MCO would keep it.
// Both owned conditions are written at the end, whatever happened.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (_ reconcile.Result, retErr error) {
	hcp := &hypershiftv1beta1.HostedControlPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, hcp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hcp.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	out := outcome{count: len(hcp.Spec.ImageContentSources)}
	defer func() {
		if err := conditions.ApplyControlPlane(ctx, r.Client, hcp, FieldOwner, out.conditions(hcp.Generation, hcp.Status.Conditions)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedControlPlane status: %w", err))
		}
	}()
	out.invalid = mirrorset.Validate([]mirrorset.Set{mirrorset.FromHostedControlPlane(hcp)})
	if out.invalid != nil {
		return reconcile.Result{}, nil
	}
	var errs []error
	if err := r.writeConfig(ctx, hcp); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			out.conflict = true
		} else {
			out.writeErr = err
			errs = append(errs, err)
		}
	}
	guest, err := r.guest(ctx, hcp.Namespace)
	if err != nil {
		out.guestMissing = err
	} else if err := applyGuest(ctx, guest, hcp); err != nil {
		out.guestErr = err
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if out.conflict {
		return reconcile.Result{Requeue: true}, nil
	}
	return reconcile.Result{RequeueAfter: GuestResync}, nil
}

// writeConfig puts the nodes' ConfigMap in line with a valid list: written
// for a non-empty one, deleted for an empty one.
func (r *Reconciler) writeConfig(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane) error {
	cfg, err := dataPlaneConfig(hcp)
	if err != nil {
		return fmt.Errorf("rendering the nodes' mirror sets: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: DataPlaneConfigMap}}
	if cfg == nil {
		// Look in the cache first: most clusters never had the ConfigMap.
		if err := r.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); apierrors.IsNotFound(err) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		if err := r.Client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		return nil
	}
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

// guest returns a client of the guest API server from the kubeconfig
// Secret, reusing the one built for the Secret's current version.
func (r *Reconciler) guest(ctx context.Context, ns string) (client.Client, error) {
	var secret corev1.Secret
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: GuestKubeconfigSecret}, &secret); err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ns, GuestKubeconfigSecret, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if g, ok := r.guests[string(secret.UID)]; ok && g.resourceVersion == secret.ResourceVersion {
		return g.client, nil
	}
	data := secret.Data[GuestKubeconfigKey]
	if len(data) == 0 {
		return nil, fmt.Errorf("guest kubeconfig Secret %s/%s has no %q key", ns, GuestKubeconfigSecret, GuestKubeconfigKey)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("reading the guest kubeconfig in Secret %s/%s key %q: %w", ns, GuestKubeconfigSecret, GuestKubeconfigKey, err)
	}
	cfg.Timeout = 30 * time.Second
	c, err := client.New(cfg, client.Options{Scheme: r.Client.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("guest client from Secret %s/%s: %w", ns, GuestKubeconfigSecret, err)
	}
	if r.guests == nil {
		r.guests = map[string]guestClient{}
	}
	clear(r.guests) // one guest per namespace: drop the old version's client
	r.guests[string(secret.UID)] = guestClient{resourceVersion: secret.ResourceVersion, client: c}
	return c, nil
}

// applyGuest writes (or, for an empty list, deletes) the guest's
// ImageDigestMirrorSet "cluster" and, with the annotation, the
// ImageTagMirrorSet; only objects labelled as HyperShift-managed are deleted.
func applyGuest(ctx context.Context, guest client.Client, hcp *hypershiftv1beta1.HostedControlPlane) error {
	idms, itms := guestMirrorSets(hcp)
	curIDMS := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: GuestMirrorSetName}}
	if idms == nil {
		if err := deleteManaged(ctx, guest, curIDMS); err != nil {
			return err
		}
	} else if _, err := controllerutil.CreateOrPatch(ctx, guest, curIDMS, func() error {
		curIDMS.Labels = mergeLabels(curIDMS.Labels, idms.Labels)
		curIDMS.Spec = idms.Spec
		return nil
	}); err != nil {
		return fmt.Errorf("writing the guest's ImageDigestMirrorSet %q: %w", GuestMirrorSetName, err)
	}
	curITMS := &configv1.ImageTagMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: GuestMirrorSetName}}
	if itms == nil {
		return deleteManaged(ctx, guest, curITMS)
	}
	if _, err := controllerutil.CreateOrPatch(ctx, guest, curITMS, func() error {
		curITMS.Labels = mergeLabels(curITMS.Labels, itms.Labels)
		curITMS.Spec = itms.Spec
		return nil
	}); err != nil {
		return fmt.Errorf("writing the guest's ImageTagMirrorSet %q: %w", GuestMirrorSetName, err)
	}
	return nil
}

func mergeLabels(cur, want map[string]string) map[string]string {
	if cur == nil {
		cur = map[string]string{}
	}
	for k, v := range want {
		cur[k] = v
	}
	return cur
}

// deleteManaged deletes obj from the guest when it exists and carries the
// managed label: an object someone else made is not ours to remove.
func deleteManaged(ctx context.Context, guest client.Client, obj client.Object) error {
	kind := fmt.Sprintf("%T", obj)
	if err := guest.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading the guest's %s %q: %w", kind, obj.GetName(), err)
	}
	if obj.GetLabels()["hypershift.openshift.io/managed"] != "true" {
		return nil
	}
	if err := guest.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the guest's %s %q: %w", kind, obj.GetName(), err)
	}
	return nil
}
