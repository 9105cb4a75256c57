package hostedcluster

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// PullSecretName is the copy of the HostedCluster's pull secret in the
// hosted control plane namespace, as HyperShift names it; the
// HostedControlPlane's spec.pullSecret names it.
const PullSecretName = "pull-secret"

// NodePoolReaderBinding is the RoleBinding, in the HostedCluster's
// namespace, that lets the control-plane-operator of namespace ns read the
// NodePools.
func NodePoolReaderBinding(ns string) string { return "hcpmirror-control-plane-operator-" + ns }

// ensureControlPlaneObjects writes what the owned deployments need to run:
// their ServiceAccounts and RoleBindings, the ignition server's Service, the
// pull secret copy and the trust bundle copy. It reports whether a trust
// bundle is there to mount.
func (r *Reconciler) ensureControlPlaneObjects(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, hcp *hypershiftv1beta1.HostedControlPlane) (bool, error) {
	ns := hcp.Namespace
	for _, sa := range []string{ControlPlaneOperatorName, IgnitionServerName} {
		obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}
		if _, err := controllerutil.CreateOrPatch(ctx, r.Client, obj, func() error {
			setManaged(&obj.ObjectMeta)
			return controllerutil.SetControllerReference(hcp, obj, r.Client.Scheme())
		}); err != nil {
			return false, fmt.Errorf("writing ServiceAccount %s/%s: %w", ns, sa, err)
		}
	}
	bindings := []struct{ namespace, name, role, sa string }{
		{ns, ControlPlaneOperatorName, ControlPlaneOperatorClusterRole, ControlPlaneOperatorName},
		{ns, IgnitionServerName, IgnitionServerClusterRole, IgnitionServerName},
		{hc.Namespace, NodePoolReaderBinding(ns), NodePoolReaderClusterRole, ControlPlaneOperatorName},
	}
	for _, b := range bindings {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: b.namespace, Name: b.name}}
		if _, err := controllerutil.CreateOrPatch(ctx, r.Client, rb, func() error {
			setManaged(&rb.ObjectMeta)
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role} // immutable, never changes
			rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: b.sa}}
			if b.namespace == ns {
				return controllerutil.SetControllerReference(hcp, rb, r.Client.Scheme())
			}
			// Across namespaces there is no owner: the HostedCluster's
			// deletion removes its namespace's binding with the namespace.
			return nil
		}); err != nil {
			return false, fmt.Errorf("writing RoleBinding %s/%s: %w", b.namespace, b.name, err)
		}
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: IgnitionServerName}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, svc, func() error {
		setManaged(&svc.ObjectMeta)
		svc.Spec.Selector = map[string]string{"app": IgnitionServerName}
		port := corev1.ServicePort{Name: "https", Port: 443, TargetPort: intstr.FromInt32(IgnitionServerPort), Protocol: corev1.ProtocolTCP}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port.Port || svc.Spec.Ports[0].TargetPort != port.TargetPort || svc.Spec.Ports[0].Name != port.Name {
			svc.Spec.Ports = []corev1.ServicePort{port}
		}
		return controllerutil.SetControllerReference(hcp, svc, r.Client.Scheme())
	}); err != nil {
		return false, fmt.Errorf("writing Service %s/%s: %w", ns, IgnitionServerName, err)
	}
	if err := r.copyPullSecret(ctx, hc, hcp); err != nil {
		return false, err
	}
	return r.copyTrustBundle(ctx, hc, hcp)
}

func setManaged(m *metav1.ObjectMeta) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[ManagedByLabel] = ManagedByValue
}

// copyPullSecret keeps Secret pull-secret in line with the HostedCluster's
// pull secret. Secrets are read one by one from the API server (never
// cached: that would take list and watch on every Secret of the cluster);
// a missing source is left to ReleaseImageResolved to report.
func (r *Reconciler) copyPullSecret(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, hcp *hypershiftv1beta1.HostedControlPlane) error {
	var src corev1.Secret
	key := client.ObjectKey{Namespace: hc.Namespace, Name: hc.Spec.PullSecret.Name}
	if err := r.APIReader.Get(ctx, key, &src); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading pull secret %s: %w", key, err)
	}
	data := src.Data[corev1.DockerConfigJsonKey]
	dst := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: hcp.Namespace, Name: PullSecretName}, dst)
	switch {
	case apierrors.IsNotFound(err):
		dst = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: PullSecretName}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: data}}
		setManaged(&dst.ObjectMeta)
		if err := controllerutil.SetControllerReference(hcp, dst, r.Client.Scheme()); err != nil {
			return err
		}
		if err := r.Client.Create(ctx, dst); err != nil {
			return fmt.Errorf("writing Secret %s/%s: %w", hcp.Namespace, PullSecretName, err)
		}
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", hcp.Namespace, PullSecretName, err)
	case !bytes.Equal(dst.Data[corev1.DockerConfigJsonKey], data) || len(dst.Data) != 1:
		before := dst.DeepCopy()
		dst.Data = map[string][]byte{corev1.DockerConfigJsonKey: data}
		if err := r.Client.Patch(ctx, dst, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("updating Secret %s/%s: %w", hcp.Namespace, PullSecretName, err)
		}
	}
	return nil
}

// copyTrustBundle keeps ConfigMap user-ca-bundle in line with the
// HostedCluster's additionalTrustBundle ConfigMap (key ca-bundle.crt), and
// reports whether there is one.
func (r *Reconciler) copyTrustBundle(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, hcp *hypershiftv1beta1.HostedControlPlane) (bool, error) {
	if hc.Spec.AdditionalTrustBundle == nil {
		return false, nil
	}
	var src corev1.ConfigMap
	key := client.ObjectKey{Namespace: hc.Namespace, Name: hc.Spec.AdditionalTrustBundle.Name}
	if err := r.Client.Get(ctx, key, &src); err != nil {
		return false, fmt.Errorf("reading additionalTrustBundle ConfigMap %s: %w", key, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hcp.Namespace, Name: TrustBundleConfigMap}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, cm, func() error {
		setManaged(&cm.ObjectMeta)
		cm.Data = map[string]string{TrustBundleKey: src.Data[TrustBundleKey]}
		return controllerutil.SetControllerReference(hcp, cm, r.Client.Scheme())
	}); err != nil {
		return false, fmt.Errorf("writing ConfigMap %s/%s: %w", hcp.Namespace, TrustBundleConfigMap, err)
	}
	return true, nil
}

// mirrored reads the HostedControlPlane from the cache for mirroredConditions.
func (r *Reconciler) mirrored(ctx context.Context, hc *hypershiftv1beta1.HostedCluster) []metav1.Condition {
	hcp := &hypershiftv1beta1.HostedControlPlane{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ControlPlaneNamespace(hc), Name: hc.Name}, hcp); err != nil {
		hcp = nil
	}
	return mirroredConditions(hcp, hc.Generation)
}
