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
// The Deployments have HyperShift's shape (opm serve on :50051); they run the
// Red Hat index images, which this project's tests cannot run, so only the
// objects are tested, not a serving catalog.
package catalogs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

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
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// FieldOwner is this controller's server-side apply identity.
const FieldOwner = "hcpmirror-catalogs"

// ImageStreamName is the ImageStream HyperShift keeps the catalogs in.
const ImageStreamName = "catalogs"

// ComponentLabel marks every object this controller writes.
const ComponentLabel = "hcpmirror.io/olm-catalog"

// TriggersAnnotation makes OpenShift's trigger controller follow an
// ImageStream tag into a container's image.
const TriggersAnnotation = "image.openshift.io/triggers"

// Rules are what the controller needs in its namespace, for the
// control-plane-operator's Role.
func Rules() []rbacv1.PolicyRule {
	write := []string{"get", "list", "watch", "create", "patch", "update"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/status"}, Verbs: []string{"get", "patch"}},
		// Owned by the HostedControlPlane with blockOwnerDeletion: the
		// OwnerReferencesPermissionEnforcement admission asks for this.
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{"image.openshift.io"}, Resources: []string{"imagestreams"}, Verbs: append(write, "delete")},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: write},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: write},
	}
}

// Reconciler keeps the catalogs of one namespace.
type Reconciler struct {
	Client    ctrl.Client
	Namespace string
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
// namespace, owning the objects it writes there.
func SetupWithManager(mgr manager.Manager, namespace string) error {
	r := &Reconciler{Client: mgr.GetClient(), Namespace: namespace}
	inNS := predicate.NewPredicateFuncs(func(o ctrl.Object) bool { return o.GetNamespace() == namespace })
	return builder.ControllerManagedBy(mgr).
		Named("catalogs").
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(inNS, catalogInputsChanged)).
		Owns(&appsv1.Deployment{}, builder.WithPredicates(inNS)).
		Owns(&corev1.Service{}, builder.WithPredicates(inNS)).
		Owns(&imagev1.ImageStream{}, builder.WithPredicates(inNS)).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var hcp hypershiftv1beta1.HostedControlPlane
	if err := r.Client.Get(ctx, req.NamespacedName, &hcp); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	cond, err := r.reconcile(ctx, &hcp)
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
	if d.Pinned {
		is := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: ImageStreamName}}
		if err := r.Client.Delete(ctx, is); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ImageStream %s/%s (catalogs are pinned): %w", hcp.Namespace, ImageStreamName, err)
		}
	} else if err := r.apply(ctx, ImageStream(hcp.Namespace, d), owner); err != nil {
		return err
	}
	for _, c := range olmcatalogs.Catalogs {
		if err := r.apply(ctx, Deployment(hcp.Namespace, c, d), owner); err != nil {
			return err
		}
		if err := r.apply(ctx, Service(hcp.Namespace, c), owner); err != nil {
			return err
		}
	}
	return nil
}

// apply writes obj by server-side apply; an unchanged object is a no-op on
// the server (its resourceVersion does not move).
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
	if err := r.Client.Apply(ctx, ctrl.ApplyConfigurationFromUnstructured(u), ctrl.FieldOwner(FieldOwner), ctrl.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
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

// Deployment is one catalog's Deployment: opm serving the index on :50051.
// Without pins it also carries the trigger annotation, so that on OpenShift
// the scheduled import of a moved tag rolls it out.
func Deployment(ns string, c olmcatalogs.Catalog, d olmcatalogs.Desired) *appsv1.Deployment {
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.DeploymentName(), Labels: labels(c)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": c.DeploymentName()}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(c)},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					Containers: []corev1.Container{{
						Name:    "registry",
						Image:   d.Images[c.Name],
						Command: []string{"/bin/opm", "serve", "/configs", "--cache-dir=/tmp/cache"},
						Ports:   []corev1.ContainerPort{{Name: "grpc", ContainerPort: 50051, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 50051}},
							InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 5,
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 50051}},
							InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 5,
						},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("10m"),
							corev1.ResourceMemory: resource.MustParse("160Mi"),
						}},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
				},
			},
		},
	}
	if !d.Pinned {
		trig, _ := json.Marshal([]map[string]any{{
			"from":      map[string]string{"kind": "ImageStreamTag", "name": ImageStreamName + ":" + c.Name},
			"fieldPath": `spec.template.spec.containers[?(@.name=="registry")].image`,
		}})
		dep.Annotations = map[string]string{TriggersAnnotation: string(trig)}
	}
	return dep
}

// Service is the catalog's gRPC Service, named as the guest's CatalogSource
// addresses it (<catalog>:50051).
func Service(ns string, c olmcatalogs.Catalog) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.Name, Labels: labels(c)},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": c.DeploymentName()},
			Ports:    []corev1.ServicePort{{Name: "grpc", Port: 50051, TargetPort: intstr.FromInt32(50051), Protocol: corev1.ProtocolTCP}},
		},
	}
}
