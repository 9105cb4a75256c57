package operator

import (
	"bytes"
	"fmt"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hcpmirror/hcpmirror/config/crd"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/companion"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
)

// InstallOptions parameterise the install manifests.
type InstallOptions struct {
	Namespace string
	Image     string
	// Args are extra operator arguments (e.g. --registry-overrides=...).
	Args []string
	// CRDs adds hcpmirror's CRDs. Never on a real management cluster:
	// OpenShift and HyperShift serve the full schemas there, and applying
	// our reduced ones would make the API server prune every field we do
	// not declare. For plain Kubernetes test clusters only.
	CRDs bool
	// Companion renders the operator for running beside HyperShift's
	// (--companion) with only the RBAC that mode needs.
	Companion bool
	// PinCatalogs adds --pin-catalogs and the one extra rule it needs
	// (patching HostedClusters' annotations; companion mode has it anyway).
	PinCatalogs bool
}

// ServiceAccountName is the operator's identity; tests impersonate it to
// prove the rendered RBAC is enough.
const ServiceAccountName = "hcpmirror-operator"

// ClusterRules is everything the operator may do cluster-wide, and no more:
// read mirror sets and HostedClusters, write HostedCluster status, manage
// hosted control plane namespaces and what it writes in them. Pull secrets
// are read one by one (get), never listed or watched.
func ClusterRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	write := []string{"get", "list", "watch", "create", "patch", "update"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"operator.openshift.io"}, Resources: []string{"imagecontentsourcepolicies"}, Verbs: read},
		{APIGroups: []string{"config.openshift.io"}, Resources: []string{"imagedigestmirrorsets", "imagetagmirrorsets"}, Verbs: read},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedclusters"}, Verbs: read},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedclusters/status"}, Verbs: []string{"get", "patch", "update"}},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: write},
		// Objects we create are owned by the HostedControlPlane with
		// blockOwnerDeletion; OpenShift's OwnerReferencesPermissionEnforcement
		// admission requires update on the owner's finalizers for that.
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: write},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: write},
		// delete: the nodes' mirror ConfigMap goes when imageContentSources empties.
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: append(write, "delete")},
		// get: pull secrets are read one by one, never listed or watched;
		// create/patch: the pull-secret copy in hosted control plane namespaces.
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "create", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts", "services"}, Verbs: write},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings"}, Verbs: write},
		// The components' rights are granted by binding these ClusterRoles
		// in a namespace; bind on exactly them means the operator need not
		// hold what they grant.
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"},
			ResourceNames: []string{hostedcluster.ControlPlaneOperatorClusterRole, hostedcluster.NodePoolReaderClusterRole, hostedcluster.IgnitionServerClusterRole}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
	}
}

// CompanionClusterRules is everything companion mode may do, and no more:
// read mirror sets, HostedClusters and Deployments (to compare what
// HyperShift injected), write its own ImageDigestMirrorSet (patch and
// delete by name; create cannot be restricted by name, and the controller
// never touches an object of that name without the derived label), the HostedCluster annotations for catalog pins (by
// server-side apply, its own fields only) and its own status conditions,
// and read pull secrets one by one for pinning. No namespace,
// HostedControlPlane, Deployment or ConfigMap is written.
func CompanionClusterRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"operator.openshift.io"}, Resources: []string{"imagecontentsourcepolicies"}, Verbs: read},
		{APIGroups: []string{"config.openshift.io"}, Resources: []string{"imagetagmirrorsets"}, Verbs: read},
		{APIGroups: []string{"config.openshift.io"}, Resources: []string{"imagedigestmirrorsets"}, Verbs: append(read, "create")},
		// Its own set only: RBAC cannot name an object for create, but can
		// for every later write.
		{APIGroups: []string{"config.openshift.io"}, Resources: []string{"imagedigestmirrorsets"}, ResourceNames: []string{companion.DerivedSetName}, Verbs: []string{"patch", "update", "delete"}},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedclusters"}, Verbs: append(read, "patch")},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedclusters/status"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
	}
}

// LeaderElectionRules apply in the operator's own namespace only.
func LeaderElectionRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}},
	}
}

// Objects returns the operator's namespace, identity, RBAC and Deployment.
func Objects(o InstallOptions) []client.Object {
	labels := map[string]string{"app.kubernetes.io/name": "hcpmirror-operator"}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: o.Namespace}}
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: ServiceAccountName}}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: o.Namespace, Name: ServiceAccountName}}
	cr := &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "hcpmirror-operator"}, Rules: ClusterRules()}
	if o.Companion {
		cr.Rules = CompanionClusterRules()
	} else if o.PinCatalogs {
		cr.Rules = append(cr.Rules, rbacv1.PolicyRule{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedclusters"}, Verbs: []string{"patch"}})
	}
	crb := &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "hcpmirror-operator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cr.Name}, Subjects: subject}
	role := &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: "hcpmirror-operator-leader-election"}, Rules: LeaderElectionRules()}
	rb := &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: "hcpmirror-operator-leader-election"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name}, Subjects: subject}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("probes")}}}
	}
	args := []string{"operator", "--leader-elect", "--leader-election-namespace=" + o.Namespace, "--image=" + o.Image}
	if o.Companion {
		args = append(args, "--companion")
	}
	if o.PinCatalogs {
		args = append(args, "--pin-catalogs")
	}
	args = append(args, o.Args...)
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: "hcpmirror-operator", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: ServiceAccountName,
					SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name:           "operator",
						Image:          o.Image,
						Args:           args,
						Ports:          []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}, {Name: "probes", ContainerPort: 8081}},
						LivenessProbe:  probe("/healthz"),
						ReadinessProbe: probe("/readyz"),
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
					}},
				},
			},
		},
	}
	objs := []client.Object{ns, sa, cr, crb, role, rb}
	// Beside HyperShift its own components run the control planes: the
	// companion deploys none, so it installs none of their rights.
	if !o.Companion {
		for _, c := range ComponentClusterRoles() {
			objs = append(objs, c)
		}
	}
	return append(objs, dep)
}

// ComponentClusterRoles are the control-plane components' rights, bound per
// namespace by the operator (hostedcluster.ControlPlaneOperatorRules and
// friends are their one home; the control-plane-operator's also holds its
// catalogs controller's, catalogs.Rules).
func ComponentClusterRoles() []*rbacv1.ClusterRole {
	role := func(name string, rules []rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	}
	return []*rbacv1.ClusterRole{
		role(hostedcluster.ControlPlaneOperatorClusterRole, append(hostedcluster.ControlPlaneOperatorRules(), catalogs.Rules()...)),
		role(hostedcluster.NodePoolReaderClusterRole, hostedcluster.NodePoolReaderRules()),
		role(hostedcluster.IgnitionServerClusterRole, hostedcluster.IgnitionServerRules()),
	}
}

// Render writes Objects (and, when asked, the CRDs) as one multi-document
// YAML stream.
func Render(o InstallOptions) ([]byte, error) {
	var b bytes.Buffer
	if o.CRDs {
		for _, c := range crd.CRDs() {
			b.WriteString("---\n")
			b.Write(bytes.TrimPrefix(c, []byte("---\n")))
		}
	}
	for _, obj := range Objects(o) {
		y, err := manifest.EncodeYAML(obj)
		if err != nil {
			return nil, fmt.Errorf("rendering %T: %w", obj, err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}
