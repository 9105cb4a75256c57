package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusUnreachable: against an API server that is not running, status
// says which address it could not reach.
func TestStatusUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: stopped
  cluster:
    server: https://` + addr + `
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: t
contexts:
- name: stopped
  context: {cluster: stopped, user: u}
current-context: stopped
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"status", "--kubeconfig", kubeconfig}, nil, &out, &errOut)
	want := "hcpmirror: cannot reach the management cluster at https://" + addr + ": "
	if code != 1 || !strings.HasPrefix(errOut.String(), want) || !strings.Contains(errOut.String(), "connection refused") {
		t.Errorf("status against a stopped API server: exit %d, stderr %q; want exit 1 and %q…connection refused", code, errOut.String(), want)
	}
}
