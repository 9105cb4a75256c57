package ignition_test

import (
	"net/http"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/ignition"
)

// TestPolicyRulesAreEnough runs the server as the ignition-server service
// account with a Role of exactly PolicyRules: it syncs and serves, and the
// same account cannot read a Secret by name (no get) nor anything in
// another namespace.
func TestPolicyRulesAreEnough(t *testing.T) {
	f := newFixture(t, true)
	f.create(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "ignition-server", Namespace: f.ns}, Rules: hostedcluster.IgnitionServerRules()})
	f.create(&rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ignition-server", Namespace: f.ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "ignition-server"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "ignition-server", Namespace: f.ns}},
	})
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + f.ns + ":ignition-server",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + f.ns, "system:authenticated"},
	}
	srv := f.startAs(cfg, ignition.Options{})
	if code, body := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusOK {
		t.Fatalf("GET as the service account = %d %s", code, body)
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	if _, err := kube.CoreV1().Secrets(f.ns).Get(t.Context(), ignition.PullSecretName, metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get Secret as the service account = %v, want forbidden", err)
	}
	if _, err := kube.CoreV1().Secrets("default").List(t.Context(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list Secrets in another namespace = %v, want forbidden", err)
	}
}
