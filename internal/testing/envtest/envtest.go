// Package envtest runs a real kube-apiserver and etcd for a test binary, with
// hcpmirror's CRDs installed, and hands tests a client and a fresh namespace
// each.
//
// The binaries come from hack/envtest.sh, which builds them from the Go module
// proxy once and caches them. When KUBEBUILDER_ASSETS is unset (a plain `go
// test` rather than `make test`), the harness runs the script itself: tests
// never skip for want of binaries.
package envtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/config/crd"
)

// Environment is a running API server with hcpmirror's CRDs.
type Environment struct {
	Config *rest.Config
	Client client.Client
	Scheme *runtime.Scheme
	env    *ctrlenvtest.Environment
}

// Start boots the API server. Call it from TestMain and Stop after m.Run.
func Start() (*Environment, error) {
	assets, err := assetsDir()
	if err != nil {
		return nil, err
	}
	defs, err := crd.Definitions()
	if err != nil {
		return nil, err
	}
	scheme := install.NewScheme()
	env := &ctrlenvtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDs:                  defs,
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	// OpenShift management clusters run this admission plugin; with it, the
	// RBAC test proves the rendered role can set blockOwnerDeletion.
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	// Many controllers and 50-cluster tests share one server: do not let the
	// client's default rate limiter be what a test measures.
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Environment{Config: cfg, Client: c, Scheme: scheme, env: env}, nil
}

// Stop shuts the API server down.
func (e *Environment) Stop() error { return e.env.Stop() }

var nsCounter atomic.Int64

// Namespace creates a fresh namespace for one test and deletes it afterwards
// (namespaces are never finalised without a controller-manager, but deleting
// keeps lists short).
func (e *Environment) Namespace(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e6, nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() { _ = e.Client.Delete(context.Background(), ns) })
	return name
}

// Eventually polls cond until it returns nil or the timeout passes, then
// fails the test with the last error: tests wait for controllers this way,
// never with sleeps.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AssetsDir is KUBEBUILDER_ASSETS, or what hack/envtest.sh prints (building
// the binaries the first time), for tests that start an API server
// themselves.
func AssetsDir() (string, error) { return assetsDir() }

// assetsDir is KUBEBUILDER_ASSETS, or what hack/envtest.sh prints.
func assetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "envtest.sh"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building envtest binaries with hack/envtest.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "envtest.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("hack/envtest.sh not found above the test's directory; set KUBEBUILDER_ASSETS")
		}
		dir = parent
	}
}

// Kubeconfig writes a kubeconfig for the test API server, so commands can be
// tested the way people run them (--kubeconfig).
func (e *Environment) Kubeconfig(t testing.TB) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	cfg.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.Config.CertData, ClientKeyData: e.Config.KeyData, Token: e.Config.BearerToken}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
	cfg.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
