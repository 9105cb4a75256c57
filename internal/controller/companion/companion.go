// Package companion is hcpmirror's operator beside an existing HyperShift
// (`hcpmirror operator --companion`). HyperShift owns the hosted control
// plane namespaces, HostedControlPlanes and Deployments; this controller
// never creates or writes any of them. It does only what HyperShift leaves
// to people:
//
//   - the guide's known issue "IDMS/ICSP with only root registry are not
//     propagated": when a release repository is covered by the management
//     mirror sets only through a root-registry (or registry/namespace)
//     entry, it keeps one ImageDigestMirrorSet of its own,
//     DerivedSetName, labelled DerivedLabel, with the explicit
//     repository-level entries the guide asks users to write by hand; it is
//     deleted when no longer needed;
//   - the condition InjectedOverridesMatch on each HostedCluster (its own
//     type, its own field manager), saying whether the overrides HyperShift
//     injected into the control plane Deployments match what the mirror
//     sets mean.
//
// The OLM catalog pins are kept by internal/controller/catalogpins, which
// the operator runs in either mode when asked.
package companion

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// FieldOwner is the companion's server-side apply identity.
const FieldOwner = "hcpmirror-companion"

// DerivedSetName is the one ImageDigestMirrorSet the companion writes.
const DerivedSetName = "hcpmirror-derived-release-repositories"

// DerivedLabel marks the derived set; sets carrying it are left out when
// deciding what to derive, so the set never feeds itself.
const DerivedLabel = "hcpmirror.io/derived"

// ReleaseRepositories are the two repositories every release pulls from
// (docs/semantics.md §6); each HostedCluster's own release repository is
// added to them.
var ReleaseRepositories = []string{
	"quay.io/openshift-release-dev/ocp-release",
	"quay.io/openshift-release-dev/ocp-v4.0-art-dev",
}

// Where `hypershift install` puts HyperShift's operator by default: the
// Deployment HyperShiftDeployment in HyperShiftNamespace (another
// namespace with `--namespace`). internal/operator's DetectHyperShift is
// where it is looked for.
const (
	HyperShiftNamespace  = "hypershift"
	HyperShiftDeployment = "operator"
)

// DerivedEntries are the explicit repository-level entries for repos that
// cfg covers only through a shorter (root registry or registry/namespace)
// prefix: source the repository, mirrors each digest mirror with the
// remainder appended, NeverContactSource kept. Repositories with an entry
// of their own, none at all, or only a wildcard or tag mirrors need nothing.
func DerivedEntries(cfg *mirrorset.Config, repos []string) []configv1.ImageDigestMirrors {
	seen := map[string]bool{}
	var out []configv1.ImageDigestMirrors
	for _, repo := range repos {
		if seen[repo] {
			continue
		}
		seen[repo] = true
		r := cfg.Find(repo)
		if r == nil || r.Prefix == repo || mirrorset.IsWildcard(r.Prefix) || len(r.DigestMirrors) == 0 {
			continue
		}
		rest := repo[len(r.Prefix):]
		e := configv1.ImageDigestMirrors{Source: repo}
		for _, m := range r.DigestMirrors {
			e.Mirrors = append(e.Mirrors, m+rest)
		}
		if r.Blocked {
			e.MirrorSourcePolicy = configv1.NeverContactSource
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Reconciler is the companion controller.
type Reconciler struct {
	Client client.Client
	Kinds  mirrorsets.Kinds
	// Static are the --registry-overrides HyperShift's operator was given,
	// so they are not reported as a mismatch.
	Static map[string]string

	sets *mirrorsets.Reader // reuses the last compilation while no set changed
}

// SetupWithManager registers the controller: HostedClusters, the mirror-set
// kinds and Deployments (spec changes) enqueue the HostedClusters concerned.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	r.sets = &mirrorsets.Reader{Client: r.Client, Kinds: r.Kinds}
	all := handler.EnqueueRequestsFromMapFunc(r.allHostedClusters)
	b := ctrl.NewControllerManagedBy(mgr).
		Named("companion").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: workers}).
		For(&hypershiftv1beta1.HostedCluster{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	if r.Kinds.ICSP {
		b = b.Watches(&operatorv1alpha1.ImageContentSourcePolicy{}, all)
	}
	if r.Kinds.IDMS {
		b = b.Watches(&configv1.ImageDigestMirrorSet{}, all)
	}
	if r.Kinds.ITMS {
		b = b.Watches(&configv1.ImageTagMirrorSet{}, all)
	}
	b = b.Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.namespaceCluster), builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	return b.Complete(r)
}

func (r *Reconciler) allHostedClusters(ctx context.Context, _ client.Object) []reconcile.Request {
	var list hypershiftv1beta1.HostedClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items)+1)
	for _, hc := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&hc)})
	}
	if len(out) == 0 {
		// No cluster left: the derived set must still be removed.
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: DerivedSetName}})
	}
	return out
}

func (r *Reconciler) namespaceCluster(ctx context.Context, o client.Object) []reconcile.Request {
	var list hypershiftv1beta1.HostedClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	for _, hc := range list.Items {
		if hostedcluster.ControlPlaneNamespace(&hc) == o.GetNamespace() {
			return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(&hc)}}
		}
	}
	return nil
}

// Reconcile keeps the derived set (a cluster-wide object, recomputed from
// every HostedCluster) and the HostedCluster's condition.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.ensureDerived(ctx, snap); err != nil {
		return reconcile.Result{}, err
	}
	if req.Namespace == "" {
		return reconcile.Result{}, nil
	}
	var hc hypershiftv1beta1.HostedCluster
	if err := r.Client.Get(ctx, req.NamespacedName, &hc); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	cond, err := r.injected(ctx, &hc, snap)
	if cerr := conditions.Apply(ctx, r.Client, &hc, FieldOwner, []metav1.Condition{cond}); cerr != nil && !apierrors.IsNotFound(cerr) {
		return reconcile.Result{}, fmt.Errorf("writing conditions of HostedCluster %s: %w", req, cerr)
	}
	return reconcile.Result{}, err
}

// snapshot is the management mirror sets compiled twice: without the
// derived set (what to derive from), and with it (what HyperShift reads and
// injects, so what its injection is compared with).
type snapshot struct {
	cfg     *mirrorset.Config // without the derived set
	all     *mirrorset.Config // as HyperShift sees them
	invalid error
}

func (r *Reconciler) snapshot(ctx context.Context) (snapshot, error) {
	s, err := r.sets.Read(ctx)
	if err != nil {
		return snapshot{}, err
	}
	sets := slices.DeleteFunc(slices.Clone(s.Sets), func(s mirrorset.Set) bool { return s.Labels[DerivedLabel] == "true" })
	cfg, err := mirrorset.CompileContext(ctx, sets)
	if err != nil {
		return snapshot{invalid: err}, nil
	}
	// The full sets may be invalid because of the derived set itself (a
	// user's new explicit entry with another policy): derive from the rest
	// anyway, so the set that is no longer needed goes and the conflict
	// with it.
	return snapshot{cfg: cfg, all: s.Config, invalid: s.Invalid}, nil
}

func (r *Reconciler) ensureDerived(ctx context.Context, snap snapshot) error {
	if !r.Kinds.IDMS || snap.cfg == nil {
		// Invalid sets: keep what is there (last good), as everywhere.
		return nil
	}
	var list hypershiftv1beta1.HostedClusterList
	if err := r.Client.List(ctx, &list); err != nil {
		return fmt.Errorf("listing HostedClusters: %w", err)
	}
	repos := slices.Clone(ReleaseRepositories)
	if len(list.Items) == 0 {
		repos = nil
	}
	for _, hc := range list.Items {
		if ref, err := imageref.Parse(hc.Spec.Release.Image); err == nil {
			repos = append(repos, ref.Name())
		}
	}
	entries := DerivedEntries(snap.cfg, repos)
	var cur configv1.ImageDigestMirrorSet
	err := r.Client.Get(ctx, types.NamespacedName{Name: DerivedSetName}, &cur)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading ImageDigestMirrorSet %s: %w", DerivedSetName, err)
	}
	if len(entries) == 0 {
		if exists && cur.Labels[DerivedLabel] == "true" {
			if err := r.Client.Delete(ctx, &cur); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting ImageDigestMirrorSet %s (no longer needed): %w", DerivedSetName, err)
			}
		}
		return nil
	}
	if exists && cur.Labels[DerivedLabel] != "true" {
		// Someone else's object under our name: never take it over (a
		// forced apply would rewrite their entries, and a later cleanup
		// would delete them).
		return fmt.Errorf("ImageDigestMirrorSet %s exists without the label %s=true: it is not hcpmirror's, so it is left alone; rename it to let the companion write the derived entries", DerivedSetName, DerivedLabel)
	}
	if exists && slices.EqualFunc(cur.Spec.ImageDigestMirrors, entries, func(a, b configv1.ImageDigestMirrors) bool {
		return a.Source == b.Source && slices.Equal(a.Mirrors, b.Mirrors) && a.MirrorSourcePolicy == b.MirrorSourcePolicy
	}) && cur.Labels[DerivedLabel] == "true" {
		return nil
	}
	want := &configv1.ImageDigestMirrorSet{
		TypeMeta: metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageDigestMirrorSet"},
		ObjectMeta: metav1.ObjectMeta{Name: DerivedSetName, Labels: map[string]string{DerivedLabel: "true"},
			Annotations: map[string]string{"hcpmirror.io/derived-from": "repository-level entries for release repositories covered only by root or namespace entries (HyperShift does not propagate those)"}},
		Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: entries},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying ImageDigestMirrorSet %s: %w", DerivedSetName, err)
	}
	return nil
}

// injected compares the overrides HyperShift injected into the control
// plane Deployments with what the mirror sets mean.
func (r *Reconciler) injected(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, snap snapshot) (metav1.Condition, error) {
	cond := func(s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return conditions.New(hypershiftv1beta1.InjectedOverridesMatch, s, reason, msg, hc.Generation)
	}
	if snap.all == nil {
		return cond(metav1.ConditionUnknown, hypershiftv1beta1.ReasonInvalidMirrorSets, "the management mirror sets are invalid: "+snap.invalid.Error()), nil
	}
	want, err := hostedcluster.NewCarriers(snap.all, r.Static)
	if err != nil {
		return cond(metav1.ConditionUnknown, hypershiftv1beta1.ReasonInvalidMirrorSets, err.Error()), nil
	}
	ns := hostedcluster.ControlPlaneNamespace(hc)
	var list appsv1.DeploymentList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return cond(metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable, err.Error()), err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	var drift []string
	carriers := 0
	for i := range list.Items {
		for _, s := range hostedcluster.Compare(want, &list.Items[i]) {
			carriers++
			if !s.InSync {
				drift = append(drift, fmt.Sprintf("%s/%s %s: %s", s.Deployment, s.Container, s.Carrier, s.Detail))
			}
		}
	}
	switch {
	case carriers == 0:
		return cond(metav1.ConditionUnknown, hypershiftv1beta1.ReasonNoCarriers, fmt.Sprintf("no Deployment in %s carries overrides yet", ns)), nil
	case len(drift) > 0:
		return cond(metav1.ConditionFalse, hypershiftv1beta1.ReasonInjectedDiffer, "what HyperShift injected differs from what the mirror sets mean: "+strings.Join(drift, "; ")), nil
	}
	return cond(metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, fmt.Sprintf("%d carriers in %s match the mirror sets", carriers, ns)), nil
}
