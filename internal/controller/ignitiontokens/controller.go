// Package ignitiontokens is the control-plane-operator's controller of the
// NodePools' token Secrets, from which the ignition server serves each
// pool's nodes (docs/semantics.md §7.2): one Secret per NodePool of the
// cluster, token-<pool>-<hash> in the hosted control plane namespace,
// rotated every Rotation with the previous token still accepted for Grace.
// NodePools live in the HostedCluster's namespace; the control-plane-operator
// reads them there through a narrow Role (get, list, watch nodepools; get
// configmaps) the management operator grants it, and nothing else of that
// namespace.
package ignitiontokens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// Defaults of the rotation.
const (
	DefaultRotation = 24 * time.Hour
	DefaultGrace    = time.Hour
	// ConfigResync bounds how long a changed NodePool config ConfigMap
	// takes to reach the token Secret: ConfigMaps of the HostedCluster's
	// namespace are read one by one (get), never watched.
	ConfigResync = time.Minute
)

// FieldOwner is this controller's server-side apply identity for its condition.
const FieldOwner = "hcpmirror-control-plane-operator-ignition-tokens"

// Reconciler keeps the token Secrets of one hosted control plane namespace.
type Reconciler struct {
	// Client reads from the cache: the control plane namespace, and
	// NodePools of NodePoolNamespace.
	Client client.Client
	// APIReader reads the pools' config ConfigMaps in NodePoolNamespace.
	APIReader client.Reader
	// Namespace is the hosted control plane namespace.
	Namespace string
	// NodePoolNamespace is the HostedCluster's namespace.
	NodePoolNamespace string
	Rotation, Grace   time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller: HostedControlPlanes,
// NodePools of NodePoolNamespace and the token Secrets.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return dataplane.ControlPlanesOf(r.Client)(ctx, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace}})
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("ignitiontokens").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&hypershiftv1beta1.NodePool{}, all, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, all, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[TokenLabel] == "true" }))).
		Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile writes one token Secret per NodePool of the cluster, deletes the
// token Secrets no pool needs any more, and writes IgnitionTokensReady.
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
		if err := conditions.ApplyControlPlane(ctx, r.Client, hcp, FieldOwner, []metav1.Condition{out.condition(hcp.Generation)}); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedControlPlane status: %w", err))
		}
	}()
	next, err := r.reconcile(ctx, hcp, &out)
	if err != nil {
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			out = outcome{pools: out.pools, conflict: true}
			return reconcile.Result{Requeue: true}, nil
		}
		return reconcile.Result{}, err
	}
	wait := ConfigResync
	if d := time.Until(next); d < wait {
		wait = max(d, time.Second)
	}
	return reconcile.Result{RequeueAfter: wait}, nil
}

// clusterName is the HostedCluster the control plane belongs to.
func (r *Reconciler) clusterName(hcp *hypershiftv1beta1.HostedControlPlane) string {
	if v := hcp.Annotations[hostedcluster.ClusterAnnotation]; v != "" {
		for i := len(v) - 1; i >= 0; i-- {
			if v[i] == '/' {
				return v[i+1:]
			}
		}
	}
	return hcp.Name
}

func (r *Reconciler) reconcile(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane, out *outcome) (time.Time, error) {
	var pools hypershiftv1beta1.NodePoolList
	if err := r.Client.List(ctx, &pools, client.InNamespace(r.NodePoolNamespace)); err != nil {
		out.poolsErr = fmt.Errorf("listing NodePools in %s: %w", r.NodePoolNamespace, err)
		return time.Time{}, out.poolsErr
	}
	cluster := r.clusterName(hcp)
	var existing corev1.SecretList
	if err := r.Client.List(ctx, &existing, client.InNamespace(hcp.Namespace), client.MatchingLabels{TokenLabel: "true"}); err != nil {
		out.writeErr = fmt.Errorf("listing token Secrets in %s: %w", hcp.Namespace, err)
		return time.Time{}, out.writeErr
	}
	byName := map[string]*corev1.Secret{}
	for i := range existing.Items {
		byName[existing.Items[i].Name] = &existing.Items[i]
	}
	now := r.now()
	next := now.Add(r.Rotation)
	want := map[string]bool{}
	// Pools whose config could not be read this round keep every token
	// they have: a transient read error must not lock their nodes out.
	unread := map[string]bool{}
	var errs []error
	sort.Slice(pools.Items, func(i, j int) bool { return pools.Items[i].Name < pools.Items[j].Name })
	for i := range pools.Items {
		np := &pools.Items[i]
		if np.Spec.ClusterName != cluster || !np.DeletionTimestamp.IsZero() {
			continue
		}
		out.pools++
		config, err := r.config(ctx, np)
		if err != nil {
			out.poolsErr = err
			errs = append(errs, err)
			unread[np.Namespace+"/"+np.Name] = true
			continue
		}
		name := SecretName(np.Name, np.Spec.Release.Image, config)
		want[name] = true
		s := byName[name]
		if s == nil {
			s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: name}}
		}
		n, err := r.write(ctx, hcp, s, np, config, now)
		if err != nil {
			out.writeErr = err
			errs = append(errs, err)
			continue
		}
		if n.Before(next) {
			next = n
		}
	}
	for name, s := range byName {
		if want[name] || unread[s.Annotations[NodePoolAnnotation]] {
			continue
		}
		if err := r.Client.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
			out.writeErr = fmt.Errorf("deleting stale token Secret %s/%s: %w", s.Namespace, s.Name, err)
			errs = append(errs, out.writeErr)
		}
	}
	return next, errors.Join(errs...)
}

// config concatenates the `config` keys of the pool's config ConfigMaps as
// one YAML stream, in the pool's order.
func (r *Reconciler) config(ctx context.Context, np *hypershiftv1beta1.NodePool) ([]byte, error) {
	var docs [][]byte
	for i, ref := range np.Spec.Config {
		var cm corev1.ConfigMap
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: np.Namespace, Name: ref.Name}, &cm); err != nil {
			return nil, fmt.Errorf("reading ConfigMap %q of NodePool %s/%s spec.config[%d]: %w", ref.Name, np.Namespace, np.Name, i, err)
		}
		if c := cm.Data[ConfigKey]; c != "" {
			docs = append(docs, []byte(c))
		}
	}
	for i, d := range docs {
		if !bytes.HasSuffix(d, []byte("\n")) {
			docs[i] = append(d, '\n')
		}
	}
	return manifest.JoinDocuments(docs), nil
}

// write creates or updates the pool's token Secret and returns when it next
// needs rotating or pruning.
func (r *Reconciler) write(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane, s *corev1.Secret, np *hypershiftv1beta1.NodePool, config []byte, now time.Time) (time.Time, error) {
	before := s.DeepCopy()
	changed, next := rotate(s, now, r.Rotation, r.Grace)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[TokenLabel] = "true"
	s.Annotations[NodePoolAnnotation] = np.Namespace + "/" + np.Name
	s.Data[ReleaseKey] = []byte(np.Spec.Release.Image)
	s.Data[ConfigKey] = config
	s.Type = corev1.SecretTypeOpaque
	if err := controllerutil.SetControllerReference(hcp, s, r.Client.Scheme()); err != nil {
		return time.Time{}, err
	}
	var err error
	switch {
	case s.ResourceVersion == "":
		err = r.Client.Create(ctx, s)
	case changed || !equalSecrets(before, s):
		err = r.Client.Update(ctx, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("writing token Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return next, nil
}

func equalSecrets(a, b *corev1.Secret) bool {
	if len(a.Data) != len(b.Data) || len(a.Labels) != len(b.Labels) || len(a.Annotations) != len(b.Annotations) || len(a.OwnerReferences) != len(b.OwnerReferences) {
		return false
	}
	for k, v := range a.Data {
		if !bytes.Equal(b.Data[k], v) {
			return false
		}
	}
	for k, v := range a.Labels {
		if b.Labels[k] != v {
			return false
		}
	}
	for k, v := range a.Annotations {
		if b.Annotations[k] != v {
			return false
		}
	}
	return true
}

// outcome is what one reconcile found.
type outcome struct {
	pools    int
	poolsErr error // NodePools or their ConfigMaps could not be read
	writeErr error
	conflict bool
}

// condition is IgnitionTokensReady.
func (o outcome) condition(generation int64) metav1.Condition {
	t := hypershiftv1beta1.IgnitionTokensReady
	switch {
	case o.poolsErr != nil:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonNodePoolsUnavailable, o.poolsErr.Error(), generation)
	case o.writeErr != nil:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonSecretWriteFailed, o.writeErr.Error(), generation)
	case o.conflict:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonWriteConflict, "a token Secret write lost a race and is being retried.", generation)
	default:
		return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d NodePools have a current token Secret.", o.pools), generation)
	}
}
