package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// TestCatalogServerUsage checks the command line of catalog-server: the
// catalog image is required (a usage error), and a bad reference is
// refused before anything listens.
func TestCatalogServerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"catalog-server", "--namespace="}, 2, "--catalog-image: required"},
		{[]string{"catalog-server", "--namespace=", "--catalog-image=Not/A:Ref:x", "--listen=127.0.0.1:0"}, 1, "catalog image"},
		{[]string{"catalog-server", "--namespace=", "--catalog-image=quay.io/a/b:1", "--registry-overrides=bad"}, 1, "--registry-overrides"},
	} {
		code, got := runHcpmirror(t, tc.args, nil)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("hcpmirror %v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, got)
		}
	}
}

// TestCatalogServerListenDefault: the --listen default is the port the
// catalog Deployments are written with (one constant, catalogserver.Port).
func TestCatalogServerListenDefault(t *testing.T) {
	f := newCatalogServerCommand().Flags().Lookup("listen")
	dep := catalogs.Deployment("ns", olmcatalogs.Catalogs[0], catalogs.DeploymentInput{Image: "quay.io/a/hcpmirror:1", Catalog: "quay.io/a/index:v4.18"})
	if want := fmt.Sprintf(":%d", catalogserver.Port); f == nil || f.DefValue != want ||
		!slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--listen="+want) || dep.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort != catalogserver.Port {
		t.Errorf("--listen default %v, Deployment args %v: want %s in both", f, dep.Spec.Template.Spec.Containers[0].Args, want)
	}
}

// TestCatalogServerServesCacheWhileAPIUnreachable starts catalog-server
// with a namespace whose API server refuses every connection and a
// --cache-dir holding the catalog: it listens and answers SERVING from the
// cache at once, without waiting for the ConfigMap watch to sync.
func TestCatalogServerServesCacheWhileAPIUnreachable(t *testing.T) {
	down := closedAddr(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://`+down+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const ref = "registry.redhat.io/redhat/redhat-operator-index:v4.18"
	cache := filepath.Join(dir, "cache")
	fbc := `{"schema":"olm.package","name":"p","defaultChannel":"stable"}
{"schema":"olm.channel","package":"p","name":"stable","entries":[{"name":"p.v1.0.0"}]}
{"schema":"olm.bundle","package":"p","name":"p.v1.0.0","image":"quay.io/p/bundle:1.0.0","properties":[{"type":"olm.package","value":{"packageName":"p","version":"1.0.0"}}]}
`
	state := `{"reference":"` + ref + `","digest":"sha256:` + strings.Repeat("a", 64) + `","servedBy":"` + ref + `"}`
	if err := os.MkdirAll(filepath.Join(cache, "fbc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"fbc/catalog.json": fbc, "catalog-state.json": state} {
		if err := os.WriteFile(filepath.Join(cache, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	listen := closedAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Execute(ctx, []string{"catalog-server", "--namespace=ns", "--kubeconfig=" + kubeconfig, "--catalog-image=" + ref,
			"--listen=" + listen, "--cache-dir=" + cache}, strings.NewReader(""), io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("catalog-server did not stop")
		}
	}()
	conn, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := grpc_health_v1.NewHealthClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(cctx, &grpc_health_v1.HealthCheckRequest{})
		ccancel()
		if err == nil && resp.Status == grpc_health_v1.HealthCheckResponse_SERVING {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("catalog-server exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not SERVING from the cache while the API server is unreachable: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
