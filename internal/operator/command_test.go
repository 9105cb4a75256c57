package operator_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/cli"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestOperatorCommand starts `hcpmirror operator` the way the rendered
// Deployment does (flags, probes, metrics, leader election) against the API
// server and stops it with a signal-like cancel.
func TestOperatorCommand(t *testing.T) {
	env := operator.SharedEnv()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	probes, metrics := freeAddr(t), freeAddr(t)
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Execute(ctx, []string{"operator", "--kubeconfig", env.Kubeconfig(t),
			"--health-probe-bind-address", probes, "--metrics-bind-address", metrics,
			"--leader-elect", "--leader-election-namespace", ns,
			"--registry-overrides", "registry.static.example.com=static.sample.lab"}, nil, &out, &errOut)
	}()

	envtest.Eventually(t, 20*time.Second, func() error {
		for _, path := range []string{"/healthz", "/readyz"} {
			code, body, err := get("http://" + probes + path)
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("%s: %d %s", path, code, body)
			}
		}
		return nil
	})

	idms := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: ns + "-cmd"},
		Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: []configv1.ImageDigestMirrors{{Source: "quay.io/cmd", Mirrors: []string{"m.sample.lab/cmd"}}}}}
	if err := env.Client.Create(ctx, idms); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), idms) })
	// No pull secret: the release cannot be read, so the owned deployments
	// are not created, but a HyperShift-built deployment already in the
	// namespace gets its overrides all the same.
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cmd"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"},
			PullSecret: corev1.LocalObjectReference{Name: "not-created"}}}
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	cpns := ns + "-cmd"
	envtest.Eventually(t, 20*time.Second, func() error {
		return env.Client.Get(ctx, types.NamespacedName{Name: cpns}, &corev1.Namespace{})
	})
	foreign := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: cpns, Name: "hosted-cluster-config-operator"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "hcco"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "hcco"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "hcco", Image: "x", Args: []string{"--registry-overrides", "old=x"}}}}}}}
	if err := env.Client.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	kubeconfig := env.Kubeconfig(t)
	var statusOut string
	envtest.Eventually(t, 20*time.Second, func() error {
		var o, e bytes.Buffer
		code := cli.Execute(ctx, []string{"status", "--kubeconfig", kubeconfig, "--registry-overrides", "registry.static.example.com=static.sample.lab", ns + "/cmd"}, nil, &o, &e)
		statusOut = o.String() + e.String()
		for _, want := range []string{"hosted-cluster-config-operator  hcco", "in sync", "control-plane-operator          control-plane-operator  flag", `pull secret`} {
			if !strings.Contains(statusOut, want) {
				return fmt.Errorf("status (exit %d) lacks %q:\n%s", code, want, statusOut)
			}
		}
		// The owned deployments run the operator's own image, so they exist
		// whether or not the release was read: nothing drifts.
		if code != 0 {
			return fmt.Errorf("status exit %d, want 0 (in sync)", code)
		}
		return nil
	})
	t.Logf("status:\n%s", statusOut)
	// The metrics endpoint serves controller-runtime's reconcile metrics.
	code, body, err := get("http://" + metrics + "/metrics")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `controller_runtime_reconcile_total{controller="hostedcluster"`) {
		t.Errorf("metrics: %d %v, hostedcluster reconcile counter present: %v", code, err, strings.Contains(body, "controller_runtime_reconcile_total"))
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("operator exit %d after cancel; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("operator did not stop after cancel")
	}
}
