package operator_test

import (
	"bytes"
	"context"
	"slices"
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
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

// TestStatusCommand runs `hcpmirror status` against the API server: in sync
// after propagation, drift after someone edits a carrier while the operator
// is down, in sync again once it runs.
func TestStatusCommand(t *testing.T) {
	env := operator.SharedEnv()
	ctx := context.Background()
	ns := env.Namespace(t)
	kubeconfig := env.Kubeconfig(t)

	idms := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: ns + "-status"},
		Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: []configv1.ImageDigestMirrors{{Source: "quay.io/status", Mirrors: []string{"m.sample.lab/status"}}}}}
	if err := env.Client.Create(ctx, idms); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), idms) })
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"},
			PullSecret: corev1.LocalObjectReference{Name: "missing"}}}
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}

	run := func() (int, string) {
		var out, errOut bytes.Buffer
		code := cli.Execute(ctx, []string{"status", "--kubeconfig", kubeconfig, ns + "/status"}, nil, &out, &errOut)
		return code, out.String() + errOut.String()
	}

	mgr, err := operator.New(env.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", Kinds: &mirrorsets.All})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	envtest.Eventually(t, 20*time.Second, func() error {
		if code, out := run(); code != 0 {
			return &statusErr{out}
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	code, out := run()
	for _, want := range []string{"in sync", "control-plane-operator", "ignition-server", "registries.conf ConfigMap: in sync"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Fatalf("status exit %d:\n%s", code, out)
	}
	t.Logf("in sync:\n%s", out)

	// Someone hand-edits the ignition server's flag while the operator is down.
	var d appsv1.Deployment
	key := types.NamespacedName{Namespace: hostedcluster.ControlPlaneNamespace(hc), Name: hostedcluster.IgnitionServerName}
	if err := env.Client.Get(ctx, key, &d); err != nil {
		t.Fatal(err)
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	for i := range args {
		if strings.HasPrefix(args[i], "--registry-overrides=") {
			args[i] = "--registry-overrides=quay.io/status=stale.sample.lab"
		}
	}
	if err := env.Client.Update(ctx, &d); err != nil {
		t.Fatal(err)
	}
	code, out = run()
	if code != 1 || !strings.Contains(out, "DRIFT") || !strings.Contains(out, "quay.io/status: has stale.sample.lab, want m.sample.lab/status") {
		t.Fatalf("status after a hand edit: exit %d, want 1 and a drift line:\n%s", code, out)
	}
	t.Logf("after a hand edit:\n%s", out)

	// The operator corrects it as soon as it runs again.
	mgr2, err := operator.New(env.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", Kinds: &mirrorsets.All})
	if err != nil {
		t.Fatal(err)
	}
	mctx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	go func() { _ = mgr2.Start(mctx2) }()
	envtest.Eventually(t, 20*time.Second, func() error {
		if code, out := run(); code != 0 {
			return &statusErr{out}
		}
		return nil
	})
}

type statusErr struct{ out string }

func (e *statusErr) Error() string { return "status reports drift:\n" + e.out }

// TestRenderTellsTheOperatorItsImage: the owned deployments run the image
// render installs the operator with, so the operator is told it.
func TestRenderTellsTheOperatorItsImage(t *testing.T) {
	for _, obj := range operator.Objects(operator.InstallOptions{Namespace: "hcpmirror", Image: "registry.example/hcpmirror@sha256:" + strings.Repeat("1", 64)}) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			continue
		}
		ct := d.Spec.Template.Spec.Containers[0]
		if want := "--image=" + ct.Image; !slices.Contains(ct.Args, want) {
			t.Errorf("operator args %v lack %s", ct.Args, want)
		}
		return
	}
	t.Fatal("no Deployment rendered")
}
