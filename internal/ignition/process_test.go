package ignition_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// hcpmirrorBinary builds cmd/hcpmirror once per test binary.
func hcpmirrorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hcpmirror-ignition-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hcpmirror")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/hcpmirror/hcpmirror/cmd/hcpmirror").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is `hcpmirror ignition-server` running as a child process.
type process struct {
	cmd            *exec.Cmd
	stderr         *bytes.Buffer
	https, metrics string
}

// startProcess runs the binary with the contract's flags and environment:
// --kubeconfig, POD_NAMESPACE (no --namespace), OPENSHIFT_IMG_OVERRIDES,
// --registry-overrides, --cert-file/--key-file, --ca-file.
func (f *fixture) startProcess(kubeconfig, envOverrides, flagOverrides string) *process {
	f.t.Helper()
	listen, metrics := freePort(f.t), freePort(f.t)
	cmd := exec.Command(hcpmirrorBinary(f.t), "ignition-server",
		"--kubeconfig", kubeconfig,
		"--listen", listen, "--metrics-addr", metrics,
		"--cert-file", f.certs.certFile, "--key-file", f.certs.keyFile,
		"--registry-overrides="+flagOverrides,
		"--ca-file", f.mirrorA.CAFile, "--ca-file", f.mirrorB.CAFile)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE="+f.ns, "OPENSHIFT_IMG_OVERRIDES="+envOverrides)
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, https: "https://" + listen, metrics: "http://" + metrics}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { p.stop(f.t) })
	waitReady(f.t, p.metrics)
	return p
}

// stop sends SIGTERM, as a kubelet does, and waits: the command must exit
// 143 (stopped by a signal) or 0, never hang.
func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("ignition-server did not stop on SIGTERM; log:\n%s", p.stderr)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestProcessRestartConverges runs the built binary with the contract's
// flags; the ConfigMap changes while it is down, and the restarted process
// serves from the new mirror. The token never appears in its log.
func TestProcessRestartConverges(t *testing.T) {
	f := newFixture(t, true)
	kubeconfig := env.Kubeconfig(t)
	// The environment's overrides name mirror B: the ConfigMap (mirror A)
	// must win while it exists.
	envOverrides := f.source + "/openshift-release-dev/ocp-release=" + f.mirrorB.Addr + "/" + synthrelease.DefaultReleaseRepo
	flagOverrides := f.source + "/openshift-release-dev/ocp-v4.0-art-dev=" + f.mirrorB.Addr + "/" + synthrelease.DefaultComponentsRepo
	p := f.startProcess(kubeconfig, envOverrides, flagOverrides)
	code, body := fetch(t, f.certs.pool, p.https+"/ignition", f.token)
	if code != http.StatusOK {
		t.Fatalf("GET = %d %s\nlog:\n%s", code, body, p.stderr)
	}
	if f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo) == 0 || f.pulls(f.mirrorB, "/") != 0 {
		t.Fatalf("want mirror A only (the ConfigMap); A %d, B %d", f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo), f.pulls(f.mirrorB, "/"))
	}
	// The README's flow, with curl itself when the machine has it.
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--fail", "--cacert", filepath.Join(f.certs.dir, "ca.crt"),
			"-H", "Authorization: Bearer "+f.token, p.https+"/ignition").Output()
		if err != nil {
			t.Errorf("curl: %v", err)
		} else if _, files := decode(t, out); !strings.Contains(files["/etc/containers/registries.conf"], "node-mirror.example.internal:5000/ocp") {
			t.Errorf("curl's payload lacks the node registries.conf: %s", out)
		}
	} else {
		t.Log("curl is not installed: the README flow was fetched with Go's client only")
	}
	if code, _ := fetch(t, f.certs.pool, p.https+"/ignition", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token = %d, want 401", code)
	}
	p.stop(t)

	f.setRegistries(f.mirrorB)
	p2 := f.startProcess(kubeconfig, envOverrides, flagOverrides)
	if code, body := fetch(t, f.certs.pool, p2.https+"/ignition", f.token); code != http.StatusOK {
		t.Fatalf("GET after restart = %d %s", code, body)
	}
	if f.manifestPulls(f.mirrorB, synthrelease.DefaultReleaseRepo) == 0 {
		t.Errorf("the restarted server did not read through mirror B")
	}

	// Live in the process too: the ConfigMap edited back to mirror A, then
	// deleted, which leaves OPENSHIFT_IMG_OVERRIDES and --registry-overrides
	// (both mirror B).
	f.setRegistries(f.mirrorA)
	a := f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo)
	envtest.Eventually(t, 10*time.Second, func() error {
		if code, _ := fetch(t, f.certs.pool, p2.https+"/ignition", f.token); code != http.StatusOK {
			return fmt.Errorf("GET = %d", code)
		}
		if f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo) == a {
			return fmt.Errorf("mirror A not used yet")
		}
		return nil
	})
	if err := env.Client.Delete(t.Context(), configMap(f.ns, "")); err != nil {
		t.Fatal(err)
	}
	b := f.manifestPulls(f.mirrorB, synthrelease.DefaultComponentsRepo)
	envtest.Eventually(t, 10*time.Second, func() error {
		if code, body := fetch(t, f.certs.pool, p2.https+"/ignition", f.token); code != http.StatusOK {
			return fmt.Errorf("GET = %d %s", code, body)
		}
		if f.manifestPulls(f.mirrorB, synthrelease.DefaultComponentsRepo) == b {
			return fmt.Errorf("the environment's mirror B not used yet")
		}
		return nil
	})
	p2.stop(t)
	for _, log := range []*bytes.Buffer{p.stderr, p2.stderr} {
		if bytes.Contains(log.Bytes(), []byte(f.token)) || bytes.Contains(log.Bytes(), f.pullSecret) {
			t.Errorf("the log holds the token or the pull secret:\n%s", log)
		}
	}
}
