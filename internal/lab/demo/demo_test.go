package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
)

// TestDemo runs `hcpmirror-lab demo` with a small release, so that `make demo`
// cannot break unnoticed.
func TestDemo(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	assets, err := envtest.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Out: &out, Assets: assets, Components: 60, Dir: t.TempDir(), Binary: kubelet.Binary(t)}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"0 missing",
		"(source blocked: NeverContactSource)",
		"ReleaseImageResolved=True",
		"RegistryOverridesPropagated=True",
		"every deployment of clusters-demo carries the new mirror",
		"GuestMirrorSetsApplied=True",
		"token Secret token-workers-",
		"a wrong token: 401",
		"node-mirror.demo.lab:5000/ocp-release",
		"hcpmirror catalog-server",
		"readiness probe answered SERVING",
		"package gamma-operator, default channel",
		"Done:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "DRIFT") {
		t.Errorf("demo reports drift:\n%s", out.String())
	}
}

// fakeAssets makes a folder with the named files, executable or not.
func fakeAssets(t *testing.T, files map[string]os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for n, mode := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\nexit 1\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckAssets(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		files map[string]os.FileMode
		want  []string // substrings of the error; none means success
	}{
		{name: "both", files: map[string]os.FileMode{"kube-apiserver": 0o755, "etcd": 0o755}},
		{name: "unset", dir: "-", want: []string{"set KUBEBUILDER_ASSETS or --assets"}},
		{name: "no etcd", files: map[string]os.FileMode{"kube-apiserver": 0o755}, want: []string{"etcd:", "no such file"}},
		{name: "not executable", files: map[string]os.FileMode{"kube-apiserver": 0o644, "etcd": 0o755}, want: []string{"kube-apiserver:", "is not executable"}},
		{name: "empty folder", files: map[string]os.FileMode{}, want: []string{"kube-apiserver:", "etcd:", "hack/envtest.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeAssets(t, tt.files)
			if tt.dir == "-" {
				dir = ""
			}
			err := CheckAssets(dir)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckAssets = %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckAssets succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckAssets error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRunFailureRemovesTempDir: assets are checked before anything starts,
// and a demo that fails later leaves no temporary folder behind.
func TestRunFailureRemovesTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	if err := Run(t.Context(), Options{Out: &out, Assets: fakeAssets(t, map[string]os.FileMode{"etcd": 0o755})}); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("Run without kube-apiserver = %v, want the missing binary named", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run started before checking the assets:\n%s", out.String())
	}
	// Valid-looking assets, but the context is gone: the demo fails after
	// making its folder.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assets := fakeAssets(t, map[string]os.FileMode{"kube-apiserver": 0o755, "etcd": 0o755})
	if err := Run(ctx, Options{Out: &out, Assets: assets, Components: 2}); err == nil {
		t.Fatal("Run with a cancelled context succeeded")
	}
	left, err := filepath.Glob(filepath.Join(tmp, "hcpmirror-demo-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("failed demo left %v behind", left)
	}
}
