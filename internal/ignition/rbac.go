package ignition

import rbacv1 "k8s.io/api/rbac/v1"

// PolicyRules are everything the server asks of the API server, in its
// namespace only: the rules of the ignition-server Role. Informers list and
// watch; nothing is written, and nothing outside the namespace is read.
// Secrets cannot be restricted by label in RBAC: the server itself only
// lists those labelled TokenLabel=true and the one named PullSecretName.
func PolicyRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"hypershift.openshift.io"}, Resources: []string{"hostedcontrolplanes"}, Verbs: []string{"list", "watch"}},
	}
}
