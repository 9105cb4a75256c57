package hostedcluster

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

// The ClusterRoles the control-plane components run with, installed by
// `hcpmirror render` and bound by this controller in each hosted control
// plane namespace with RoleBindings, so every grant is namespaced. The
// operator holds `bind` on exactly these (it need not hold what they grant).
const (
	// ControlPlaneOperatorClusterRole is bound in the hosted control plane
	// namespace to ServiceAccount control-plane-operator.
	ControlPlaneOperatorClusterRole = "hcpmirror-control-plane-operator"
	// NodePoolReaderClusterRole is bound in the HostedCluster's namespace to
	// the same ServiceAccount: the NodePools and their config ConfigMaps.
	NodePoolReaderClusterRole = "hcpmirror-control-plane-operator-nodepools"
	// IgnitionServerClusterRole is bound in the hosted control plane
	// namespace to ServiceAccount ignition-server.
	IgnitionServerClusterRole = "hcpmirror-ignition-server"
)

// ControlPlaneOperatorRules are what the control-plane-operator may do in
// its own namespace: read the HostedControlPlane and write its status, keep
// the ignition certificates, token Secrets and the nodes' ConfigMap, hold
// its leader-election Lease and record events. Its OLM catalogs controller
// needs catalogs.Rules too; ComponentClusterRoles (internal/operator) adds
// them, since that package uses this one's names.
// Secrets are listed and watched because the certificates and tokens are;
// the pull secret and guest kubeconfig are read from the same cache.
func ControlPlaneOperatorRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	write := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: read},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/status"}, Verbs: []string{"get", "patch", "update"}},
		// Owner references with blockOwnerDeletion need update on the
		// owner's finalizers (OwnerReferencesPermissionEnforcement).
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: write},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
	}
}

// NodePoolReaderRules are what the control-plane-operator may do in the
// HostedCluster's namespace: watch NodePools, and get (never list) the
// ConfigMaps their spec.config names.
func NodePoolReaderRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"nodepools"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}},
	}
}

// IgnitionServerRules are what the ignition server may do in its
// namespace: read the HostedControlPlane, the token Secrets (watched by
// label, which needs list and watch on Secrets), the pull secret, the
// registries and trust-bundle ConfigMaps, and record events. It reads
// Secrets and ConfigMaps only through its informers, so it holds no get on
// them; list still returns contents, and RBAC cannot narrow it to a label,
// so this Role can read every Secret of the namespace (README says so).
func IgnitionServerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
	}
}
