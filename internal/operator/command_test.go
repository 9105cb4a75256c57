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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cmd"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"}}}
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	kubeconfig := env.Kubeconfig(t)
	envtest.Eventually(t, 20*time.Second, func() error {
		var o, e bytes.Buffer
		if code := cli.Execute(ctx, []string{"status", "--kubeconfig", kubeconfig, "--registry-overrides", "registry.static.example.com=static.sample.lab", ns + "/cmd"}, nil, &o, &e); code != 0 {
			return fmt.Errorf("status exit %d:\n%s%s", code, o.String(), e.String())
		}
		return nil
	})
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
