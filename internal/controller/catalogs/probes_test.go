package catalogs_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// TestProbes checks the probes of a catalog Deployment: readiness is the
// gRPC health check (SERVING once a catalog is loaded), liveness does not
// depend on loading (a TCP connect to the gRPC port).
func TestProbes(t *testing.T) {
	dep := catalogs.Deployment("ns", olmcatalogs.Catalogs[0], catalogs.DeploymentInput{Image: testImage, Catalog: "registry.redhat.io/redhat/certified-operator-index:v4.18"})
	ct := dep.Spec.Template.Spec.Containers[0]
	for _, tc := range []struct {
		name string
		p    *corev1.Probe
		ok   func(*corev1.Probe) bool
	}{
		{"readiness: gRPC health", ct.ReadinessProbe, func(p *corev1.Probe) bool {
			return p.GRPC != nil && p.GRPC.Port == catalogs.Port && p.TCPSocket == nil && p.HTTPGet == nil
		}},
		{"liveness: TCP connect", ct.LivenessProbe, func(p *corev1.Probe) bool {
			return p.TCPSocket != nil && p.TCPSocket.Port.IntValue() == catalogs.Port && p.GRPC == nil && p.HTTPGet == nil && p.Exec == nil
		}},
	} {
		if tc.p == nil || !tc.ok(tc.p) {
			t.Errorf("%s: %+v", tc.name, tc.p)
		}
	}
}

// TestLiveWhileUnreachable runs a catalog Deployment whose catalog image is
// on a registry that is down: the server stays alive (the
// liveness probe passes, so a kubelet would not restart it) and not ready.
func TestLiveWhileUnreachable(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	// A registry that is down: a port nothing listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	source := ln.Addr().String()
	_ = ln.Close()
	for _, o := range []client.Object{
		catalogs.ServiceAccount(ns), catalogs.Role(ns), catalogs.RoleBinding(ns),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c := olmcatalogs.Catalogs[0]
	dep := catalogs.Deployment(ns, c, catalogs.DeploymentInput{Image: testImage, Catalog: source + "/redhat/" + c.Index + ":v4.18", PollInterval: time.Second})
	pod := kubelet.Run(t, kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": kubelet.Binary(t)}}, dep)
	envtest.Eventually(t, timeout, func() error { return pod.Live(ctx) })
	// Several failed pulls later (retried every few seconds): still alive,
	// still not ready.
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if exited, err := pod.Exited(); exited {
			t.Fatalf("the server exited (%v):\n%s", err, pod.Logs())
		}
		if err := pod.Live(ctx); err != nil {
			t.Fatalf("liveness failed while the registry is unreachable: %v\n%s", err, pod.Logs())
		}
		if err := pod.Ready(ctx); err == nil {
			t.Fatalf("ready without a catalog:\n%s", pod.Logs())
		}
		time.Sleep(time.Second)
	}
	if logs := pod.Logs(); !strings.Contains(logs, "refreshing the catalog") || !strings.Contains(logs, source) {
		t.Errorf("the log does not show the failed pulls from %s:\n%s", source, logs)
	}
}
