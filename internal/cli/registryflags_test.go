package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// hungAddr accepts connections and never answers: a mirror that is up but
// hung.
func hungAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// writeMirrorSets writes an ImageDigestMirrorSet sending the release
// repositories to mirror, never to quay.io.
func writeMirrorSets(t *testing.T, mirror string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idms.yaml")
	doc := fmt.Sprintf(`apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: release
spec:
  imageDigestMirrors:
  - source: quay.io/openshift-release-dev/ocp-release
    mirrors: [%[1]s/openshift/release-images]
    mirrorSourcePolicy: NeverContactSource
  - source: quay.io/openshift-release-dev/ocp-v4.0-art-dev
    mirrors: [%[1]s/openshift/release]
    mirrorSourcePolicy: NeverContactSource
`, mirror)
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRequestTimeoutFlag runs the networked commands against a mirror that
// accepts connections and never answers: each gives up after
// --request-timeout and says so, instead of four 30 s attempts per image.
func TestRequestTimeoutFlag(t *testing.T) {
	cliEnv(t)
	hung := hungAddr(t)
	sets := writeMirrorSets(t, hung)
	rel := "quay.io/openshift-release-dev/ocp-release@sha256:" + strings.Repeat("a", 64)
	for _, args := range [][]string{
		{"verify", "-f", sets, "--release", rel},
		{"release", "info", "-f", sets, rel},
		{"lint", "-f", sets, "--release", rel},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := Execute(context.Background(), append(args, "--request-timeout", "300ms"), strings.NewReader(""), &stdout, &stderr)
			took := time.Since(start)
			if code != 1 {
				t.Errorf("exit status = %d, want 1", code)
			}
			out := stdout.String() + stderr.String()
			if !strings.Contains(out, "request timed out after 300ms") {
				t.Errorf("output does not say the request timed out after 300ms:\n%s", out)
			}
			if took > 5*time.Second {
				t.Errorf("took %v with --request-timeout 300ms", took)
			}
		})
	}
}

// TestStatusRequestTimeout: status against an API server that accepts
// connections and never answers gives up after --request-timeout.
func TestStatusRequestTimeout(t *testing.T) {
	kubeconfig := writeKubeconfig(t, hungAddr(t))
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := Execute(context.Background(), []string{"status", "--request-timeout", "300ms", "--kubeconfig", kubeconfig}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Errorf("status against a hung API server: exit 0")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("status took %v with --request-timeout 300ms\n%s", took, stderr.String())
	}
}

// writeKubeconfig writes a kubeconfig for an API server at addr, with a
// token that must never be printed.
func writeKubeconfig(t *testing.T, addr string) string {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: kube-token-secret}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// TestVerboseFlag traces the requests of a registry command and of a
// cluster command on stderr, one line each, without credentials.
func TestVerboseFlag(t *testing.T) {
	cliEnv(t)
	t.Run("registry", func(t *testing.T) {
		reg := testreg.Start(t, testreg.WithBasicAuth("robot", "robot-pw-1"))
		pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
			Destination: reg.Addr, Components: 3,
			RemoteOptions: []remote.Option{remote.WithAuth(&authn.Basic{Username: "robot", Password: "robot-pw-1"})},
		})
		if err != nil {
			t.Fatal(err)
		}
		auth := writeAuthSecret(t, reg.Addr, "robot", "robot-pw-1")
		var stdout, stderr bytes.Buffer
		args := []string{"verify", "-v", "-f", writeMirrorSets(t, reg.Addr), "--insecure-registry", reg.Addr, "--authfile", auth, "--release", pub.Release}
		if code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("verify -v: exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
		_, dgst, _ := strings.Cut(pub.Release, "@")
		for _, want := range []string{
			"GET http://" + reg.Addr + "/v2/ 401 Unauthorized ",
			"GET http://" + reg.Addr + "/v2/openshift/release-images/manifests/" + dgst + " 200 OK ",
			"HEAD http://" + reg.Addr + "/v2/openshift/release/manifests/sha256:",
		} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not trace %q:\n%s", want, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "robot-pw-1") || strings.Contains(stderr.String(), base64.StdEncoding.EncodeToString([]byte("robot:robot-pw-1"))) {
			t.Errorf("trace leaks the password:\n%s", stderr.String())
		}
		if strings.Contains(stdout.String(), "GET http") {
			t.Errorf("trace went to stdout:\n%s", stdout.String())
		}
	})
	t.Run("cluster", func(t *testing.T) {
		down := downAddr(t)
		kubeconfig := writeKubeconfig(t, down)
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), []string{"status", "-v", "--kubeconfig", kubeconfig}, strings.NewReader(""), &stdout, &stderr)
		if code == 0 {
			t.Errorf("status against a stopped API server: exit 0")
		}
		if !strings.Contains(stderr.String(), "GET https://"+down+"/") || !strings.Contains(stderr.String(), "connection refused") {
			t.Errorf("stderr does not trace the API request:\n%s", stderr.String())
		}
		if strings.Contains(stderr.String(), "kube-token-secret") {
			t.Errorf("trace leaks the token:\n%s", stderr.String())
		}
	})
}

// writeAuthSecret writes a Kubernetes pull secret, as "oc get secret -o
// yaml" prints it, holding credentials for host.
func writeAuthSecret(t *testing.T, host, user, pass string) string {
	t.Helper()
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	doc := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull-secret\n  namespace: openshift-config\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: " +
		base64.StdEncoding.EncodeToString([]byte(cfg)) + "\n"
	path := filepath.Join(t.TempDir(), "pull-secret.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
