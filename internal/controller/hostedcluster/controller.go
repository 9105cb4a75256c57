// Package hostedcluster reconciles each HostedCluster's hosted control plane
// namespace so that every deployment there reads the overrides the
// management cluster's mirror sets mean now: the namespace, the
// HostedControlPlane, the registries ConfigMap, the deployments hcpmirror
// owns (control-plane-operator and ignition-server, running the operator's
// own image) with their ServiceAccounts, RoleBindings, Service and the pull
// secret copy, and the override carriers of every other deployment. Any
// mirror-set change re-reconciles every HostedCluster; nothing needs a
// restart. The nodes' mirror configuration is the control-plane-operator's
// (package dataplane); this controller mirrors its ValidImageContentSources
// from the HostedControlPlane onto the HostedCluster.
package hostedcluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// Labels and annotations linking a hosted control plane namespace to its HostedCluster.
const (
	// HostedControlPlaneLabel marks hosted control plane namespaces, as HyperShift does.
	HostedControlPlaneLabel = "hypershift.openshift.io/hosted-control-plane"
	// ClusterAnnotation names the HostedCluster ("namespace/name") a namespace
	// or HostedControlPlane belongs to, as HyperShift does.
	ClusterAnnotation = "hypershift.openshift.io/cluster"
)

// Release is what the controller needs to know of a release payload.
type Release struct {
	// Image is the canonical release reference by digest.
	Image string
	// Version is the release version.
	Version string
	// ServedBy is the physical reference the payload was read from.
	ServedBy string
	// Components maps component names to canonical references.
	Components map[string]string
}

// ReleaseProvider reads a release payload through the current mirrors.
type ReleaseProvider interface {
	Lookup(ctx context.Context, mirrors *mirrorset.Config, image string, pullSecret []byte) (*Release, error)
}

// Reconciler reconciles HostedClusters.
type Reconciler struct {
	Client client.Client
	// APIReader reads pull secrets straight from the API server: caching
	// them would need list and watch on every Secret of the cluster.
	APIReader client.Reader
	Sets      *mirrorsets.Reader
	Releases  ReleaseProvider
	Recorder  events.EventRecorder
	// StaticOverrides are the operator's own --registry-overrides: they win
	// per source in the flag carrier and rewrite owned pod images.
	StaticOverrides map[string]string
	// Image is the operator's own image, which the owned deployments run
	// (`hcpmirror render --image` sets it).
	Image string

	releases releaseMemo
	pending  pendingWrites
}

// ControlPlaneNamespace is HyperShift's name for a HostedCluster's control plane namespace.
func ControlPlaneNamespace(hc *hypershiftv1beta1.HostedCluster) string {
	return hc.Namespace + "-" + hc.Name
}

// SetupWithManager registers the controller and its watches: HostedClusters,
// the three mirror-set kinds (any change enqueues every HostedCluster) and
// Deployments in hosted control plane namespaces (drift is corrected).
//
// workers bounds concurrent reconciles: one mirror-set change enqueues every
// HostedCluster, and their namespaces are independent.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, kinds mirrorsets.Kinds, workers int) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named("hostedcluster").
		// A restarted operator in the same process (tests, `hcpmirror-lab demo`)
		// registers the controller again.
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: workers}).
		For(&hypershiftv1beta1.HostedCluster{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	all := handler.EnqueueRequestsFromMapFunc(r.allHostedClusters)
	if kinds.ICSP {
		b = b.Watches(&operatorv1alpha1.ImageContentSourcePolicy{}, all)
	}
	if kinds.IDMS {
		b = b.Watches(&configv1.ImageDigestMirrorSet{}, all)
	}
	if kinds.ITMS {
		b = b.Watches(&configv1.ImageTagMirrorSet{}, all)
	}
	// Only spec changes (generation) of Deployments matter: status churn of
	// every rollout in the cluster must not trigger reconciles.
	owner := handler.EnqueueRequestsFromMapFunc(NamespaceOwner(r.Client))
	b = b.Watches(&appsv1.Deployment{}, owner, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	// The control-plane-operator's conditions are mirrored onto the HostedCluster.
	b = b.Watches(&hypershiftv1beta1.HostedControlPlane{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return HostedClusterOf(o.(*hypershiftv1beta1.HostedControlPlane))
	}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return mirroredChanged(e.ObjectOld.(*hypershiftv1beta1.HostedControlPlane), e.ObjectNew.(*hypershiftv1beta1.HostedControlPlane))
	}}))
	// A deleted or edited ConfigMap of ours is put back at once.
	b = b.Watches(&corev1.ConfigMap{}, owner, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetName() == RegistriesConfigMap
	})))
	return b.Complete(r)
}

func (r *Reconciler) allHostedClusters(ctx context.Context, _ client.Object) []reconcile.Request {
	var list hypershiftv1beta1.HostedClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		log.FromContext(ctx).Error(err, "listing HostedClusters after a mirror-set change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, hc := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}})
	}
	return reqs
}

// NamespaceOwner maps an object in a hosted control plane namespace to its
// HostedCluster, through the namespace's HostedControlPlane (read from c,
// the cache). Every controller of a hosted control plane namespace maps its
// watches this way.
func NamespaceOwner(c client.Reader) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var hcps hypershiftv1beta1.HostedControlPlaneList
		if err := c.List(ctx, &hcps, client.InNamespace(obj.GetNamespace())); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for i := range hcps.Items {
			reqs = append(reqs, HostedClusterOf(&hcps.Items[i])...)
		}
		return reqs
	}
}

// HostedClusterOf maps a HostedControlPlane to its HostedCluster.
func HostedClusterOf(hcp *hypershiftv1beta1.HostedControlPlane) []reconcile.Request {
	if nn, ok := parseClusterAnnotation(hcp.Annotations[ClusterAnnotation]); ok {
		return []reconcile.Request{{NamespacedName: nn}}
	}
	return nil
}

func parseClusterAnnotation(v string) (types.NamespacedName, bool) {
	ns, name, ok := strings.Cut(v, "/")
	return types.NamespacedName{Namespace: ns, Name: name}, ok && ns != "" && name != ""
}

// Reconcile brings one HostedCluster's control plane namespace in line with
// the current mirror sets. Every condition in OwnedConditions is written at
// the end, whatever happened.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, retErr error) {
	logger := log.FromContext(ctx)
	hc := &hypershiftv1beta1.HostedCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, hc); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var out outcome
	defer func() {
		conds := out.conditions(hc.Generation, hc.Status.Conditions)
		if err := conditions.Apply(ctx, r.Client, hc, FieldOwner, conds); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedCluster status: %w", err))
		}
		if err := conditions.Apply(ctx, r.Client, hc, MirrorFieldOwner, r.mirrored(ctx, hc)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedCluster status: %w", err))
		}
	}()
	res, err := r.reconcile(ctx, hc, &out)
	if err != nil && staleCache(err) {
		// A stale cache lost a race with another writer (or with our own
		// last write): not a failure worth flapping the condition for; the
		// retry, at once, settles it.
		logger.V(1).Info("write conflict, retrying", "error", err.Error())
		out.conflict, out.propagateErr = true, nil
		return reconcile.Result{Requeue: true}, nil
	}
	return res, err
}

// staleCache reports errors that only mean the cache was behind the API
// server: every one of them must be, for a joined error.
func staleCache(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !staleCache(e) {
				return false
			}
		}
		return true
	}
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}

// reconcile does the work of Reconcile, recording what it found in out.
func (r *Reconciler) reconcile(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, out *outcome) (reconcile.Result, error) {
	snap, err := r.Sets.Read(ctx)
	if err != nil {
		out.setsReadErr = err
		return reconcile.Result{}, err
	}
	out.setsCount = len(snap.Sets)
	out.setsInvalid = snap.Invalid
	var carriers *Carriers
	if snap.Invalid == nil {
		out.sourcesCount = snap.Config.Len()
		c, err := NewCarriers(snap.Config, r.StaticOverrides)
		if err != nil {
			// The sets compiled: what cannot be encoded is a value only
			// unvalidated input (ICSP, static overrides) can hold.
			out.propagateErr = fmt.Errorf("encoding the override strings: %w", err)
		} else {
			carriers = &c
		}
		if r.Releases == nil {
			out.releaseDisabled = true
		} else {
			out.release, out.releaseReason, out.releaseErr = r.lookupRelease(ctx, hc, snap.Config)
		}
	} else {
		log.FromContext(ctx).Info("mirror sets are invalid; keeping the last good overrides", "error", snap.Invalid.Error())
	}
	ns := ControlPlaneNamespace(hc)
	if err := r.ensureNamespace(ctx, hc, ns); err != nil {
		out.propagateErr = err
		return reconcile.Result{}, err
	}
	hcp, err := r.ensureHostedControlPlane(ctx, hc, ns)
	if err != nil {
		out.propagateErr = err
		return reconcile.Result{}, err
	}
	trust, err := r.ensureControlPlaneObjects(ctx, hc, hcp)
	if err != nil {
		out.propagateErr = err
		return reconcile.Result{}, err
	}
	if carriers == nil {
		return reconcile.Result{}, nil
	}

	in := componentInput{image: overrides.RewriteImage(r.StaticOverrides, r.Image), nodePoolNamespace: hc.Namespace, trustBundle: trust, carriers: *carriers}
	n, changed, waiting, err := r.propagate(ctx, hcp, ns, in)
	out.deployments, out.changed = n, changed
	if changed > 0 && r.Recorder != nil {
		r.Recorder.Eventf(hc, nil, corev1.EventTypeNormal, "RegistryOverridesChanged", "Propagate",
			"Registry overrides written to %d objects of namespace %s", changed, ns)
	}
	if err != nil {
		out.propagateErr = err
		return reconcile.Result{}, err
	}
	if waiting > 0 {
		// Writes of ours the cache does not show yet: their events
		// reconcile again (the requeue is for an event that never comes);
		// until then the condition stays as it was.
		out.conflict = true
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	if out.releaseErr != nil {
		// The registry may come back or the secret may be created: retry
		// without hammering, mirror-set and spec changes retrigger anyway.
		return reconcile.Result{RequeueAfter: time.Minute}, nil
	}
	return reconcile.Result{}, nil
}

func (r *Reconciler) ensureNamespace(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, ns, func() error {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[HostedControlPlaneLabel] = "true"
		if ns.Annotations == nil {
			ns.Annotations = map[string]string{}
		}
		ns.Annotations[ClusterAnnotation] = hc.Namespace + "/" + hc.Name
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensuring namespace %s: %w", name, err)
	}
	return nil
}

// ensureHostedControlPlane returns the object as written, so that what is
// created next can be owned by it without waiting for the cache.
func (r *Reconciler) ensureHostedControlPlane(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, ns string) (*hypershiftv1beta1.HostedControlPlane, error) {
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: hc.Name}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, hcp, func() error {
		if hcp.Annotations == nil {
			hcp.Annotations = map[string]string{}
		}
		// As HyperShift does, a known list of the HostedCluster's
		// annotations travels, and one removed there is removed here.
		copyAnnotations(hc.Annotations, hcp.Annotations)
		hcp.Annotations[ClusterAnnotation] = hc.Namespace + "/" + hc.Name
		hcp.Spec.ReleaseImage = hc.Spec.Release.Image
		// The copies in this namespace, which the components read.
		hcp.Spec.PullSecret = corev1.LocalObjectReference{Name: PullSecretName}
		hcp.Spec.ImageContentSources = hc.Spec.ImageContentSources
		hcp.Spec.AdditionalTrustBundle = nil
		if hc.Spec.AdditionalTrustBundle != nil {
			hcp.Spec.AdditionalTrustBundle = &corev1.LocalObjectReference{Name: TrustBundleConfigMap}
		}
		hcp.Spec.OLMCatalogPlacement = hc.Spec.OLMCatalogPlacement
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ensuring HostedControlPlane %s/%s: %w", ns, hc.Name, err)
	}
	return hcp, nil
}

// lookupRelease reads the release through the mirrors with the cluster's pull secret.
func (r *Reconciler) lookupRelease(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, cfg *mirrorset.Config) (*Release, string, error) {
	if r.Releases == nil {
		return nil, "", nil
	}
	memo := memoKey(hc, cfg)
	if rel := r.releases.get(hc.UID, memo, time.Now()); rel != nil {
		return rel, "", nil
	}
	r.releases.forget(hc.UID)
	data, reason, err := ReadPullSecret(ctx, r.APIReader, types.NamespacedName{Namespace: hc.Namespace, Name: hc.Spec.PullSecret.Name})
	if err != nil {
		return nil, reason, err
	}
	rel, err := r.Releases.Lookup(ctx, cfg, hc.Spec.Release.Image, data)
	if err != nil {
		return nil, hypershiftv1beta1.ReasonReleaseLookupFailed, fmt.Errorf("reading release %s through the mirrors: %w", hc.Spec.Release.Image, err)
	}
	r.releases.put(hc.UID, memo, rel, time.Now())
	return rel, "", nil
}

// propagate writes the registries ConfigMap and the owned deployments and
// updates the carriers of every other deployment in the namespace. It
// returns how many deployments carry overrides, how many objects were
// written, and how many were left alone because the cache does not show an
// earlier write of ours yet.
func (r *Reconciler) propagate(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane, ns string, in componentInput) (carrying, changed, waiting int, _ error) {
	c := in.carriers
	var writes []func() (bool, error)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: RegistriesConfigMap}}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil && !apierrors.IsNotFound(err) {
		return 0, 0, 0, fmt.Errorf("reading ConfigMap %s/%s: %w", ns, RegistriesConfigMap, err)
	}
	if r.pending.behind("ConfigMap", cm, time.Now()) {
		waiting++
	} else {
		from := cm.ResourceVersion
		writes = append(writes, func() (bool, error) {
			op, err := controllerutil.CreateOrPatch(ctx, r.Client, cm, func() error {
				if cm.Labels == nil {
					cm.Labels = map[string]string{}
				}
				cm.Labels[ManagedByLabel] = ManagedByValue
				cm.Data = map[string]string{RegistriesConfKey: c.RegistriesConf}
				return controllerutil.SetControllerReference(hcp, cm, r.Client.Scheme())
			})
			if err != nil {
				return false, fmt.Errorf("writing ConfigMap %s/%s: %w", ns, RegistriesConfigMap, err)
			}
			r.pending.wrote("ConfigMap", cm, from, time.Now())
			return op != controllerutil.OperationResultNone, nil
		})
	}

	// Decide from the cache first, then send the writes of the namespace
	// together: they are independent, and a reconcile then waits for about
	// one API round trip instead of one per deployment.
	owned := map[string]bool{}
	for _, o := range desiredOwned(in) {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: o.name}}
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(d), d)
		exists := err == nil
		switch {
		case err != nil && !apierrors.IsNotFound(err):
			return 0, 0, 0, fmt.Errorf("reading Deployment %s/%s: %w", ns, o.name, err)
		case exists && d.Labels[ManagedByLabel] != ManagedByValue:
			// Built by someone else (HyperShift itself): only its carriers
			// are ours to update, like any foreign deployment.
			continue
		}
		owned[o.name] = true
		if exists && r.pending.behind("Deployment", d, time.Now()) {
			waiting++
			continue
		}
		from := d.ResourceVersion
		writes = append(writes, func() (bool, error) {
			op, err := controllerutil.CreateOrPatch(ctx, r.Client, d, func() error {
				applyOwned(d, o)
				return controllerutil.SetControllerReference(hcp, d, r.Client.Scheme())
			})
			if err != nil {
				return false, fmt.Errorf("writing Deployment %s/%s: %w", ns, o.name, err)
			}
			r.pending.wrote("Deployment", d, from, time.Now())
			return op != controllerutil.OperationResultNone, nil
		})
	}

	var list appsv1.DeploymentList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, 0, 0, fmt.Errorf("listing Deployments in %s: %w", ns, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	carrying = len(owned)
	for i := range list.Items {
		d := &list.Items[i]
		if owned[d.Name] {
			continue
		}
		if len(FindCarriers(d)) == 0 {
			continue
		}
		carrying++
		if r.pending.behind("Deployment", d, time.Now()) {
			waiting++
			continue
		}
		before := d.DeepCopy()
		if !UpdateForeign(d, c) {
			continue
		}
		writes = append(writes, func() (bool, error) {
			if err := r.Client.Patch(ctx, d, client.StrategicMergeFrom(before, client.MergeFromWithOptimisticLock{})); err != nil {
				return false, fmt.Errorf("updating overrides of Deployment %s/%s: %w", ns, d.Name, err)
			}
			r.pending.wrote("Deployment", d, before.ResourceVersion, time.Now())
			return true, nil
		})
	}
	changed, err := runWrites(writes)
	return carrying, changed, waiting, err
}

// maxParallelWrites bounds the writes one reconcile has in flight; the
// client's rate limit bounds them all.
const maxParallelWrites = 8

// runWrites runs every write, at most maxParallelWrites at once, and
// returns how many changed something and every error, in the writes' order.
func runWrites(writes []func() (bool, error)) (int, error) {
	errs := make([]error, len(writes))
	var changed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelWrites)
	for i, w := range writes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := w()
			errs[i] = err
			if ok {
				changed.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(changed.Load()), errors.Join(errs...)
}

// ReadPullSecret reads the docker config of a pull secret for a release
// lookup, with the condition reason a failure is reported under:
// PullSecretMissing when the Secret or its key is absent, ReleaseLookupFailed
// for any other error. The management operator and the
// control-plane-operator read theirs alike.
func ReadPullSecret(ctx context.Context, c client.Reader, key types.NamespacedName) ([]byte, string, error) {
	var secret corev1.Secret
	if err := c.Get(ctx, key, &secret); err != nil {
		reason := hypershiftv1beta1.ReasonReleaseLookupFailed
		if apierrors.IsNotFound(err) {
			reason = hypershiftv1beta1.ReasonPullSecretMissing
		}
		return nil, reason, fmt.Errorf("reading pull secret %s: %w", key, err)
	}
	data, ok := secret.Data[corev1.DockerConfigJsonKey]
	if !ok {
		return nil, hypershiftv1beta1.ReasonPullSecretMissing, fmt.Errorf("pull secret %s has no %s key", key, corev1.DockerConfigJsonKey)
	}
	return data, "", nil
}
