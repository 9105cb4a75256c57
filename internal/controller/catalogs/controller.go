// Package catalogs is the control-plane-operator's OLM catalogs controller
// (docs/semantics.md §7.4, management placement): in one hosted control
// plane namespace it keeps the `catalogs` ImageStream, one tag per default
// catalog for the release's minor version with the override annotation
// applied, and the four catalog Deployments (and Services) serving them.
// With the four pin annotations set there is no ImageStream and the
// Deployments run the pinned digests.
//
// A bad annotation is a False OLMCatalogsReconciled condition naming it, and
// nothing is written: the catalogs in place stay as they were.
//
// The Deployments have HyperShift's shape (a gRPC catalog on :50051 with a
// gRPC readiness probe, Services <catalog>:50051; liveness is a TCP connect,
// which a slow first pull does not fail) but run this project's own image:
// `hcpmirror catalog-server --catalog-image REF` (internal/catalogserver),
// which pulls the catalog image through the namespace's live mirrors
// (ConfigMap hcpmirror-registries) with the pull secret mounted, and serves
// what `opm serve` would. REF is the pin; without pins, the ImageStream
// tag's imported digest (<from.name repository>@<status item image>) when
// an importer recorded one for the current spec, else the tag itself, which
// the server resolves again every poll interval. The servers run as
// ServiceAccount catalog-server, whose Role can read that one ConfigMap and
// nothing else.
//
// There is no image.openshift.io/triggers annotation: on OpenShift the
// trigger controller would write the integrated registry's reference over
// the container image (the hcpmirror image) and fight this controller. An
// import that moves a digest reaches the Deployment through the watched
// ImageStream instead, as a new --catalog-image.
//
// Nothing is written when nothing changed: each object is compared with
// the cached one (every field this controller sets, and the hash of the
// object last applied, which catches a field no longer set) before it is
// applied.
package catalogs

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	imagev1 "github.com/hcpmirror/hcpmirror/api/image/v1"
	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// FieldOwner is this controller's server-side apply identity.
const FieldOwner = "hcpmirror-catalogs"

// ImageStreamName is the ImageStream HyperShift keeps the catalogs in.
const ImageStreamName = "catalogs"

// ComponentLabel marks every object this controller writes.
const ComponentLabel = "hcpmirror.io/olm-catalog"

// TriggersAnnotation makes OpenShift's trigger controller follow an
// ImageStream tag into a container's image. This controller no longer
// writes it, and removes it from Deployments an older version wrote.
const TriggersAnnotation = "image.openshift.io/triggers"

// The catalog servers' identity and what they mount.
const (
	// ServerName names the ServiceAccount, Role and RoleBinding the four
	// catalog servers run with.
	ServerName = "catalog-server"
	// Port is the gRPC port of every catalog server and Service.
	Port = catalogserver.Port
	// PullSecretMountPath is where the pull secret is mounted; the
	// server's --authfile is its .dockerconfigjson.
	PullSecretMountPath = "/var/run/secrets/pull-secret"
	pullSecretKey       = ".dockerconfigjson"
	// CacheMountPath is the server's --cache-dir, an emptyDir: a
	// restarted container answers from it at once.
	CacheMountPath = "/var/cache/hcpmirror-catalog"
	// trustBundleMountPath holds the HostedCluster's additionalTrustBundle
	// copy (hostedcluster.TrustBundleConfigMap).
	trustBundleMountPath = "/var/run/configmaps/trust-bundle"
)

// conflictRetry is how soon a reconcile whose write met a newer object is
// redone (the cache has usually caught up by then).
const conflictRetry = 200 * time.Millisecond

// containerName is the catalog server's container, named as HyperShift
// names its catalogs' container.
const containerName = "registry"

// ServerRules are the catalog servers' Role: read the live mirrors
// ConfigMap, by name (the server watches it with a name field selector).
func ServerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{hostedcluster.RegistriesConfigMap}, Verbs: []string{"get", "list", "watch"}},
	}
}

// Rules are what the controller needs in its namespace, for the
// control-plane-operator's Role.
func Rules() []rbacv1.PolicyRule {
	write := []string{"get", "list", "watch", "create", "patch", "update"}
	// The servers' identity is changed by name only: create cannot be
	// limited by name (nor can a server-side apply that creates, which is
	// authorised as create too), patch and update can.
	byName := []string{ServerName}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/status"}, Verbs: []string{"get", "patch"}},
		// Owned by the HostedControlPlane with blockOwnerDeletion: the
		// OwnerReferencesPermissionEnforcement admission asks for this.
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{"image.openshift.io"}, Resources: []string{"imagestreams"}, Verbs: append(write, "delete")},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: write},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: write},
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"get", "list", "watch", "create"}},
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, ResourceNames: byName, Verbs: []string{"patch", "update"}},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: []string{"get", "list", "watch", "create"}},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, ResourceNames: byName, Verbs: []string{"patch", "update"}},
	}
	// What the catalog servers' Role grants: RBAC lets a Role be written
	// only by someone who holds what it grants.
	return append(rules, ServerRules()...)
}

// Reconciler keeps the catalogs of one namespace.
type Reconciler struct {
	Client    ctrl.Client
	Namespace string
	// Image is the hcpmirror image the catalog servers run: the
	// control-plane-operator's own (its --image, which the management
	// operator sets to its own, as for every component it writes).
	Image string
	// PollInterval is the servers' --poll-interval;
	// catalogserver.DefaultPollInterval when zero.
	PollInterval time.Duration
	// EnvOverrides and FlagOverrides are the overrides the
	// control-plane-operator was started with (OPENSHIFT_IMG_OVERRIDES,
	// --registry-overrides), passed on to the servers, which use them
	// while the hcpmirror-registries ConfigMap is absent.
	EnvOverrides  string
	FlagOverrides []string
}

// catalogInputsChanged passes HostedControlPlane updates that can change the
// catalogs: spec (the release image), annotations (overrides, pins) and the
// ReleaseImageResolved condition (the version of a release by digest). The
// other controllers' status writes would otherwise each cost a round of
// applies here.
var catalogInputsChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*hypershiftv1beta1.HostedControlPlane)
	n, ok2 := e.ObjectNew.(*hypershiftv1beta1.HostedControlPlane)
	if !ok1 || !ok2 {
		return true
	}
	if o.Generation != n.Generation || !maps.Equal(o.Annotations, n.Annotations) {
		return true
	}
	oc := meta.FindStatusCondition(o.Status.Conditions, hypershiftv1beta1.ReleaseImageResolved)
	nc := meta.FindStatusCondition(n.Status.Conditions, hypershiftv1beta1.ReleaseImageResolved)
	if (oc == nil) != (nc == nil) {
		return true
	}
	return oc != nil && (oc.Status != nc.Status || oc.Message != nc.Message)
}}

// SetupWithManager registers the controller for the HostedControlPlane(s) of
// namespace, owning the objects it writes there; the catalog servers run
// image.
func SetupWithManager(mgr manager.Manager, namespace, image string) error {
	return (&Reconciler{Client: mgr.GetClient(), Namespace: namespace, Image: image}).Setup(mgr)
}

// Setup registers r with mgr (r.Client is typically mgr.GetClient()).
func (r *Reconciler) Setup(mgr manager.Manager) error {
	namespace := r.Namespace
	inNS := predicate.NewPredicateFuncs(func(o ctrl.Object) bool { return o.GetNamespace() == namespace })
	return builder.ControllerManagedBy(mgr).
		Named("catalogs").
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(inNS, catalogInputsChanged)).
		Owns(&appsv1.Deployment{}, builder.WithPredicates(inNS)).
		Owns(&corev1.Service{}, builder.WithPredicates(inNS)).
		// Status too: an import that moves a tag's digest moves the
		// Deployment's catalog reference.
		Owns(&imagev1.ImageStream{}, builder.WithPredicates(inNS)).
		Owns(&corev1.ServiceAccount{}, builder.WithPredicates(inNS)).
		Owns(&rbacv1.Role{}, builder.WithPredicates(inNS)).
		Owns(&rbacv1.RoleBinding{}, builder.WithPredicates(inNS)).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var hcp hypershiftv1beta1.HostedControlPlane
	if err := r.Client.Get(ctx, req.NamespacedName, &hcp); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	cond, err := r.reconcile(ctx, &hcp)
	if apierrors.IsConflict(err) {
		// Written over a stale read: read again and redo, the condition
		// with it.
		return reconcile.Result{RequeueAfter: conflictRetry}, nil
	}
	if cerr := conditions.ApplyTo(ctx, r.Client, &hcp, "HostedControlPlane", hcp.Status.Conditions, FieldOwner, []metav1.Condition{cond}); cerr != nil && !apierrors.IsNotFound(cerr) {
		return reconcile.Result{}, fmt.Errorf("writing conditions of %s: %w", req, cerr)
	}
	return reconcile.Result{}, err
}

func (r *Reconciler) reconcile(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane) (metav1.Condition, error) {
	cond := func(s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return conditions.New(hypershiftv1beta1.OLMCatalogsReconciled, s, reason, msg, hcp.Generation)
	}
	if hcp.Spec.OLMCatalogPlacement == hypershiftv1beta1.GuestOLMCatalogPlacement {
		return cond(metav1.ConditionTrue, hypershiftv1beta1.ReasonGuestPlacement, "olmCatalogPlacement is guest: the catalogs run in the guest cluster"), nil
	}
	// Pins do not need the version; check them first so a bad pin is
	// reported even for a release by digest.
	if _, err := olmcatalogs.Pins(hcp.Annotations); err != nil {
		return cond(metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidCatalogAnnotations, err.Error()+"; the catalogs in place are kept"), nil
	}
	minor := 0
	if !pinned(hcp.Annotations) {
		m, err := olmcatalogs.MinorFromReleaseImage(hcp.Spec.ReleaseImage)
		if err != nil {
			var ok bool
			if m, ok = minorFromLookup(hcp); !ok {
				return cond(metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseVersionUnknown, err.Error()+", and no ReleaseImageResolved condition gives the version; the catalogs in place are kept"), nil
			}
		}
		minor = m
	}
	desired, err := olmcatalogs.Resolve(hcp.Annotations, minor)
	if err != nil {
		return cond(metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidCatalogAnnotations, err.Error()+"; the catalogs in place are kept"), nil
	}
	if r.Image == "" {
		return cond(metav1.ConditionFalse, hypershiftv1beta1.ReasonCatalogsNotWritten, "the control-plane-operator was started without --image: the catalog servers' image is not known"), nil
	}
	if err := r.write(ctx, hcp, desired); err != nil {
		return cond(metav1.ConditionFalse, hypershiftv1beta1.ReasonCatalogsNotWritten, err.Error()), err
	}
	msg := fmt.Sprintf("catalogs for release 4.%d through the ImageStream %s", min(minor, olmcatalogs.MaxMinor), ImageStreamName)
	if desired.Pinned {
		msg = "catalogs pinned by the four catalog-image annotations"
	}
	return cond(metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, msg), nil
}

// minorFromLookup reads the version from the release lookup's True
// ReleaseImageResolved condition on the HostedControlPlane, whose message
// starts "Release <version> (" (internal/controller/hostedcluster writes it
// so): for a release by digest, whose pull spec carries no version.
func minorFromLookup(hcp *hypershiftv1beta1.HostedControlPlane) (int, bool) {
	c := meta.FindStatusCondition(hcp.Status.Conditions, hypershiftv1beta1.ReleaseImageResolved)
	if c == nil || c.Status != metav1.ConditionTrue {
		return 0, false
	}
	rest, ok := strings.CutPrefix(c.Message, "Release ")
	if !ok {
		return 0, false
	}
	v, _, ok := strings.Cut(rest, " ")
	if !ok {
		return 0, false
	}
	m, err := olmcatalogs.MinorFromVersion(v)
	return m, err == nil
}

func pinned(ann map[string]string) bool {
	_, ok := ann[olmcatalogs.Catalogs[0].PinAnnotation()]
	return ok
}

func (r *Reconciler) write(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane, d olmcatalogs.Desired) error {
	owner := metav1.NewControllerRef(hcp, hypershiftv1beta1.GroupVersion.WithKind("HostedControlPlane"))
	refs := map[string]string{}
	if d.Pinned {
		var is imagev1.ImageStream
		err := r.Client.Get(ctx, ctrl.ObjectKey{Namespace: hcp.Namespace, Name: ImageStreamName}, &is)
		if err == nil {
			if err := r.Client.Delete(ctx, &is); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting ImageStream %s/%s (catalogs are pinned): %w", hcp.Namespace, ImageStreamName, err)
			}
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading ImageStream %s/%s: %w", hcp.Namespace, ImageStreamName, err)
		}
		refs = d.Images
	} else {
		desired := ImageStream(hcp.Namespace, d)
		if err := r.apply(ctx, desired, owner); err != nil {
			return err
		}
		var live imagev1.ImageStream
		if err := r.Client.Get(ctx, ctrl.ObjectKey{Namespace: hcp.Namespace, Name: ImageStreamName}, &live); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading ImageStream %s/%s: %w", hcp.Namespace, ImageStreamName, err)
		}
		for _, c := range olmcatalogs.Catalogs {
			refs[c.Name] = CatalogReference(&live, c.Name, d.Images[c.Name])
		}
	}
	objs := []ctrl.Object{ServiceAccount(hcp.Namespace), Role(hcp.Namespace), RoleBinding(hcp.Namespace)}
	for _, c := range olmcatalogs.Catalogs {
		in := DeploymentInput{Image: r.Image, Catalog: refs[c.Name], PollInterval: r.PollInterval, HCP: hcp,
			EnvOverrides: r.EnvOverrides, FlagOverrides: r.FlagOverrides}
		rv, err := r.keepCarriers(ctx, hcp.Namespace, c, &in)
		if err != nil {
			return err
		}
		dep := Deployment(hcp.Namespace, c, in)
		dep.ResourceVersion = rv // written only over the object the carriers were read from
		objs = append(objs, dep, Service(hcp.Namespace, c))
	}
	for _, o := range objs {
		if err := r.apply(ctx, o, owner); err != nil {
			return err
		}
	}
	return nil
}

// keepCarriers puts the override carriers an existing Deployment has into
// in: once written, their values are the management operator's, which
// rewrites them in every Deployment of the namespace when the mirror sets
// change (hostedcluster.UpdateForeign). This controller's own values, the
// ones the control-plane-operator was started with, seed a new Deployment
// only; writing them again would revert the operator's update until the
// control-plane-operator restarts, and the two would take turns. It
// returns the resourceVersion read, so that the write fails (and is
// retried) if the operator's update arrived after the read.
func (r *Reconciler) keepCarriers(ctx context.Context, ns string, c olmcatalogs.Catalog, in *DeploymentInput) (string, error) {
	var live appsv1.Deployment
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Namespace: ns, Name: c.DeploymentName()}, &live); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("reading Deployment %s/%s: %w", ns, c.DeploymentName(), err)
	}
	for _, ct := range live.Spec.Template.Spec.Containers {
		if ct.Name != containerName {
			continue
		}
		var flags []string
		for _, a := range ct.Args {
			if v, ok := strings.CutPrefix(a, hostedcluster.FlagName+"="); ok {
				flags = append(flags, v)
			}
		}
		in.FlagOverrides = flags
		for _, e := range ct.Env {
			if e.Name == hostedcluster.EnvName && e.ValueFrom == nil {
				in.EnvOverrides = e.Value
			}
		}
	}
	return live.ResourceVersion, nil
}

// CatalogReference is the reference a catalog server is given without
// pins: the tag's newest imported image by digest, in the repository the
// tag follows, when an importer recorded one for the current spec (spec and
// status of the ImageStream), else the tag itself, which the server
// resolves again every poll interval.
//
// An import is for the current spec when it was made for the stream's
// generation or a later one, and from the repository the spec tag follows
// now: after a minor upgrade (tag v4.16 to v4.17) or an override change the
// status keeps the old import until the importer runs again, and its digest
// would be served for ever.
func CatalogReference(is *imagev1.ImageStream, tag, fallback string) string {
	from := fallback
	for _, t := range is.Spec.Tags {
		if t.Name == tag && t.From != nil && t.From.Kind == "DockerImage" && t.From.Name != "" {
			from = t.From.Name
		}
	}
	ref, err := imageref.Parse(from)
	if err != nil {
		return from
	}
	for _, t := range is.Status.Tags {
		if t.Tag != tag || len(t.Items) == 0 {
			continue
		}
		item := t.Items[0]
		if item.Generation < is.Generation {
			return from
		}
		imported, err := imageref.Parse(item.DockerImageReference)
		if err != nil || imported.Name() != ref.Name() {
			return from
		}
		// A malformed digest from the importer is not followed.
		if _, err := olmcatalogs.ParsePin(ref.Name() + "@" + item.Image); err == nil {
			return ref.Name() + "@" + item.Image
		}
	}
	return from
}

// AppliedHashAnnotation records, on each object this controller writes,
// the sha256 of the object it applied (without this annotation): a live
// object holding every field of the desired one may still hold a field this
// controller has since stopped setting, which the hash tells apart.
const AppliedHashAnnotation = "hcpmirror.io/applied-config-hash"

// apply writes obj by server-side apply unless the cached object was
// applied from the same desired object (AppliedHashAnnotation) and still
// holds every field obj sets (so an edit of those fields by someone else is
// corrected): an unchanged object costs no request.
func (r *Reconciler) apply(ctx context.Context, obj ctrl.Object, owner *metav1.OwnerReference) error {
	obj.SetOwnerReferences([]metav1.OwnerReference{*owner})
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "annotations", AppliedHashAnnotation)
	// A write goes over the version read (obj's, else the cached one): a
	// stale cache is a conflict and a retry, never an older value written
	// over a newer one.
	rv := u.GetResourceVersion()
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	data, err := json.Marshal(u.Object) // map keys sorted: the same object, the same bytes
	if err != nil {
		return err
	}
	hash := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AppliedHashAnnotation] = hash
	u.SetAnnotations(ann)
	// The typed object from the manager's cache (an unstructured Get
	// would start a second informer per kind).
	live := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(ctrl.Object)
	err = r.Client.Get(ctx, ctrl.ObjectKeyFromObject(obj), live)
	switch {
	case err == nil:
		lm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
		if err != nil {
			return err
		}
		_, stale := live.GetAnnotations()[TriggersAnnotation]
		if live.GetAnnotations()[AppliedHashAnnotation] == hash && contains(lm, u.Object) && !stale {
			return nil
		}
		if rv == "" {
			rv = live.GetResourceVersion()
		}
		u.SetResourceVersion(rv)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	if err := r.Client.Apply(ctx, ctrl.ApplyConfigurationFromUnstructured(u), ctrl.FieldOwner(FieldOwner), ctrl.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// contains reports whether live holds every field of desired with the same
// value: maps by key (live may have more, the server's defaults), lists
// element by element and of the same length.
func contains(live, desired any) bool {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return len(d) == 0 && live == nil
		}
		for k, v := range d {
			if !contains(l[k], v) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return len(d) == 0 && live == nil
		}
		for i := range d {
			if !contains(l[i], d[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(live) == fmt.Sprint(desired) && (live == nil) == (desired == nil)
	}
}

func labels(c olmcatalogs.Catalog) map[string]string {
	return map[string]string{"app": c.DeploymentName(), "olm.catalogSource": c.Name, ComponentLabel: c.Name}
}

// ImageStream is the catalogs ImageStream, as HyperShift writes it.
func ImageStream(ns string, d olmcatalogs.Desired) *imagev1.ImageStream {
	is := &imagev1.ImageStream{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: "ImageStream"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ImageStreamName, Labels: map[string]string{ComponentLabel: "catalogs"}},
		Spec:       imagev1.ImageStreamSpec{LookupPolicy: imagev1.ImageLookupPolicy{Local: true}},
	}
	for _, c := range olmcatalogs.Catalogs { // name order
		is.Spec.Tags = append(is.Spec.Tags, imagev1.TagReference{
			Name:            c.Name,
			From:            &corev1.ObjectReference{Kind: "DockerImage", Name: d.Images[c.Name]},
			ImportPolicy:    imagev1.TagImportPolicy{Scheduled: true, ImportMode: "PreserveOriginal"},
			ReferencePolicy: imagev1.TagReferencePolicy{Type: "Local"},
		})
	}
	return is
}

// DeploymentInput is what a catalog Deployment is written from.
type DeploymentInput struct {
	// Image is the hcpmirror image.
	Image string
	// Catalog is the catalog reference served.
	Catalog string
	// PollInterval is the server's; catalogserver.DefaultPollInterval
	// when zero.
	PollInterval time.Duration
	// HCP gives the pull secret's name and whether a trust bundle is
	// mounted; nil: Secret pull-secret, no bundle.
	HCP *hypershiftv1beta1.HostedControlPlane
	// EnvOverrides and FlagOverrides are the server's overrides while the
	// hcpmirror-registries ConfigMap is absent.
	EnvOverrides  string
	FlagOverrides []string
}

// Deployment is one catalog's Deployment: `hcpmirror catalog-server`
// serving in.Catalog on :50051, from in.Image, with the pull secret and
// (when the HostedControlPlane has one) the additional trust bundle mounted.
func Deployment(ns string, c olmcatalogs.Catalog, in DeploymentInput) *appsv1.Deployment {
	image, ref, hcp := in.Image, in.Catalog, in.HCP
	poll := in.PollInterval
	if poll <= 0 {
		poll = catalogserver.DefaultPollInterval
	}
	args := []string{ServerName,
		"--catalog-image=" + ref,
		fmt.Sprintf("--listen=:%d", Port),
		"--cache-dir=" + CacheMountPath,
		"--poll-interval=" + poll.String(),
		"--authfile=" + PullSecretMountPath + "/" + pullSecretKey,
	}
	for _, f := range in.FlagOverrides {
		args = append(args, hostedcluster.FlagName+"="+f)
	}
	mounts := []corev1.VolumeMount{
		{Name: "pull-secret", MountPath: PullSecretMountPath, ReadOnly: true},
		{Name: "cache", MountPath: CacheMountPath},
	}
	volumes := []corev1.Volume{
		{Name: "pull-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: pullSecretName(hcp), DefaultMode: ptr.To[int32](0o440),
			Items: []corev1.KeyToPath{{Key: pullSecretKey, Path: pullSecretKey}}}}},
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if hcp != nil && hcp.Spec.AdditionalTrustBundle != nil && hcp.Spec.AdditionalTrustBundle.Name != "" {
		args = append(args, "--ca-file="+trustBundleMountPath+"/"+hostedcluster.TrustBundleKey)
		mounts = append(mounts, corev1.VolumeMount{Name: "trust-bundle", MountPath: trustBundleMountPath, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "trust-bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: hostedcluster.TrustBundleConfigMap}, DefaultMode: ptr.To[int32](0o644)}}})
	}
	// Readiness is the gRPC health check, SERVING once a catalog is
	// loaded. Liveness is the listener alone: the first pull of a big
	// index, or through a slow or unreachable mirror, takes as long as it
	// takes, and a restart would only start it over (and, with an empty
	// cache, never finish it).
	readiness := &corev1.Probe{
		// Service "" as the API server defaults it, so the comparison
		// with the cached object holds.
		ProbeHandler:        corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: Port, Service: ptr.To("")}},
		InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 5,
	}
	liveness := &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(Port)}},
		InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 5,
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.DeploymentName(), Labels: labels(c)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": c.DeploymentName()}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(c)},
				Spec: corev1.PodSpec{
					ServiceAccountName: ServerName,
					// The server watches its ConfigMap with this token.
					AutomountServiceAccountToken: ptr.To(true),
					Containers: []corev1.Container{{
						Name:    containerName,
						Image:   image,
						Command: []string{hostedcluster.Binary},
						Args:    args,
						Env: []corev1.EnvVar{
							{Name: hostedcluster.EnvName, Value: in.EnvOverrides},
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
								FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
						},
						Ports:          []corev1.ContainerPort{{Name: "grpc", ContainerPort: Port, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe: readiness,
						LivenessProbe:  liveness,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("10m"),
							corev1.ResourceMemory: resource.MustParse("160Mi"),
						}},
						VolumeMounts: mounts,
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

func pullSecretName(hcp *hypershiftv1beta1.HostedControlPlane) string {
	if hcp != nil && hcp.Spec.PullSecret.Name != "" {
		return hcp.Spec.PullSecret.Name
	}
	return "pull-secret"
}

// ServiceAccount is the catalog servers' identity.
func ServiceAccount(ns string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ServerName, Labels: map[string]string{ComponentLabel: ServerName}},
	}
}

// Role is ServerRules in the namespace.
func Role(ns string) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ServerName, Labels: map[string]string{ComponentLabel: ServerName}},
		Rules:      ServerRules(),
	}
}

// RoleBinding binds Role to the ServiceAccount.
func RoleBinding(ns string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ServerName, Labels: map[string]string{ComponentLabel: ServerName}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: ServerName},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: ServerName}},
	}
}

// Service is the catalog's gRPC Service, named as the guest's CatalogSource
// addresses it (<catalog>:50051).
func Service(ns string, c olmcatalogs.Catalog) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.Name, Labels: labels(c)},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": c.DeploymentName()},
			Ports:    []corev1.ServicePort{{Name: "grpc", Port: Port, TargetPort: intstr.FromInt32(Port), Protocol: corev1.ProtocolTCP}},
		},
	}
}
