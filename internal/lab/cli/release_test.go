package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// cliEnv isolates a command from the machine's credential files, so the
// outcome depends only on the flags.
func cliEnv(t *testing.T) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", "")
}

func TestReleasePublishCommand(t *testing.T) {
	cliEnv(t)
	reg := testreg.Start(t)
	dir := t.TempDir()
	replace := map[string]string{reg.Addr: "MIRROR", dir: "TMP"}

	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "to-file", args: []string{"--to", reg.Addr, "--insecure", "--components", "20", "--mirrorsets-out", filepath.Join(dir, "ms.yaml")}},
		{name: "to-stdout", args: []string{"--to", reg.Addr, "--insecure", "--components", "3", "--version", "4.17.1", "--seed", "7", "--source-policy", "AllowContactingSource"}},
		{name: "quiet-to-file", args: []string{"-q", "--to", reg.Addr, "--insecure", "--components", "3", "--mirrorsets-out", filepath.Join(dir, "quiet.yaml")}},
		{name: "quiet-to-stdout", args: []string{"--quiet", "--to", reg.Addr, "--insecure", "--components", "3"}},
		{name: "no-destination", args: []string{"--components", "3"}, wantExit: 1},
		{name: "bad-policy", args: []string{"--to", reg.Addr, "--source-policy", "Sometimes"}, wantExit: 1},
		{name: "bad-version", args: []string{"--to", reg.Addr, "--insecure", "--version", "four"}, wantExit: 1},
		// Zero and empty are typed on purpose: not the library's defaults.
		{name: "zero-components", args: []string{"--to", reg.Addr, "--insecure", "--components", "0"}, wantExit: 1},
		{name: "empty-version", args: []string{"--to", reg.Addr, "--insecure", "--version", ""}, wantExit: 1},
		{name: "scheme", args: []string{"--to", "https://" + reg.Addr, "--components", "3"}, wantExit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := runLab(t, append([]string{"release", "publish"}, tt.args...), replace)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGolden(t, "publish-"+tt.name, got)
		})
	}

	// Every form of output is mirror sets hcpmirror itself accepts. Not a
	// terminal, so no progress either.
	var stdout, stderr bytes.Buffer
	if code := Execute(context.Background(), []string{"release", "publish", "--to", reg.Addr, "--insecure", "--components", "3"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("release publish: exit %d: %s", code, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not a terminal, want nothing on it; got %q", stderr.String())
	}
	stdoutFile := filepath.Join(dir, "stdout.yaml")
	if err := os.WriteFile(stdoutFile, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{stdoutFile, filepath.Join(dir, "ms.yaml"), filepath.Join(dir, "quiet.yaml")} {
		loaded, err := mirrorset.Load(context.Background(), nil, f)
		if err != nil {
			t.Fatalf("loading %s: %v", f, err)
		}
		cfg, err := mirrorset.Compile(loaded.Sets)
		if err != nil {
			t.Fatalf("compiling %s: %v", f, err)
		}
		res, err := cfg.Resolve(release.CanonicalReleaseRepository + ":4.16.3-x86_64")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{reg.Addr + "/openshift/release-images:4.16.3-x86_64"}
		if diff := cmp.Diff(want, res.References()); diff != "" {
			t.Errorf("%s: release tag pull sources (-want +got):\n%s", f, diff)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b}
	p.clear()
	p.update(1, 3)
	p.update(3, 3)
	p.clear()
	if got, want := b.String(), "\rpushed 1/3 images\rpushed 3/3 images\r\033[K"; got != want {
		t.Errorf("progress wrote %q, want %q", got, want)
	}
	var none *progress
	none.clear() // no terminal: nothing drawn, nothing to clear
}
