package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests below run hcpmirror as users do: a binary built with the
// Makefile's -ldflags, in its own process, sent real signals.

// Stamped into the binary under test, as `make build` stamps a release.
const (
	testVersion   = "v9.8.7-test"
	testCommit    = "0123456789abcdef0123456789abcdef01234567"
	testBuildDate = "2026-01-02T03:04:05Z"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// hcpmirrorBinary builds cmd/hcpmirror once for the package's tests.
func hcpmirrorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hcpmirror-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hcpmirror")
		pkg := "github.com/hcpmirror/hcpmirror/internal/version"
		ldflags := fmt.Sprintf("-X %s.version=%s -X %s.commit=%s -X %s.buildDate=%s", pkg, testVersion, pkg, testCommit, pkg, testBuildDate)
		out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// TestVersion checks that the values -ldflags sets reach both spellings.
func TestVersion(t *testing.T) {
	bin := hcpmirrorBinary(t)
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("hcpmirror version -o json: %v", err)
	}
	var got struct{ Version, Commit, BuildDate, GoVersion string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("version -o json does not parse: %v\n%s", err, out)
	}
	if got.Version != testVersion || got.Commit != testCommit || got.BuildDate != testBuildDate || !strings.HasPrefix(got.GoVersion, "go") {
		t.Errorf("version -o json = %+v, want %s %s %s and a Go version", got, testVersion, testCommit, testBuildDate)
	}
	text, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("hcpmirror --version: %v", err)
	}
	for _, want := range []string{"hcpmirror " + testVersion, testCommit, testBuildDate, "go version: go"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("--version lacks %q:\n%s", want, text)
		}
	}
}

// process is a running hcpmirror.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	done   chan struct{}
}

func start(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(hcpmirrorBinary(t), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// wait returns the exit status, failing the test if the process does not
// end within limit.
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("hcpmirror %v still running %v after the signal; stderr:\n%s", p.cmd.Args[1:], limit, p.stderr)
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("hcpmirror was killed by %v instead of exiting; stderr:\n%s", ws.Signal(), p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// checkInterrupted checks what an interrupted run must say.
func checkInterrupted(t *testing.T, p *process, code, want int) {
	t.Helper()
	stderr := p.stderr.String()
	if code != want {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, want, stderr)
	}
	if !strings.Contains(stderr, "interrupted") || strings.Contains(stderr, "context canceled") {
		t.Errorf("stderr must say interrupted, never context canceled:\n%s", stderr)
	}
}

// bigMirrorSets is an ImageDigestMirrorSet with n sources.
func bigMirrorSets(n int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: big\nspec:\n  imageDigestMirrors:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - source: quay.io/team%d/app%d\n    mirrors:\n    - mirror.example.com/team%d/app%d\n", i%97, i, i%97, i)
	}
	return b.Bytes()
}

// hangingRegistry accepts connections and never answers, as an unresponsive
// mirror does; it reports each accepted connection on the channel.
func hangingRegistry(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 16)
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), accepted
}

// TestInterrupt sends the signals a user's Ctrl-C and a service manager's
// stop send, to commands blocked on the network and busy on a large input.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}

	// Blocked on a registry that never answers: the first signal ends the
	// run at once, with 128+N.
	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run("verify-"+tt.sig.String(), func(t *testing.T) {
			addr, accepted := hangingRegistry(t)
			p := start(t, "verify", "--release", addr+"/ocp/release:4.16.3", "--insecure-registry", addr)
			select {
			case <-accepted:
			case <-time.After(30 * time.Second):
				t.Fatalf("verify never contacted the registry; stderr:\n%s", p.stderr)
			}
			sent := time.Now()
			p.signal(t, tt.sig)
			code := p.wait(t, 5*time.Second)
			t.Logf("exit %d %v after %v", code, tt.sig, time.Since(sent).Round(time.Millisecond))
			checkInterrupted(t, p, code, tt.want)
		})
	}

	// Linting a large input read from stdin: the signal arrives while the
	// input is being read (the pipe is full until the process reads it, so
	// the process is running by then), and the run still ends as
	// interrupted, not as a success, once lint returns.
	t.Run("lint-large-input", func(t *testing.T) {
		p := start(t, "lint", "-f", "-")
		if _, err := p.stdin.Write(bigMirrorSets(5000)); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		p.signal(t, syscall.SIGINT)
		p.stdin.Close()
		code := p.wait(t, 2*time.Minute)
		t.Logf("exit %d %v after SIGINT", code, time.Since(sent).Round(time.Millisecond))
		checkInterrupted(t, p, code, 130)
	})

	// A run that does not stop at the first Ctrl-C (here: stdin never ends)
	// ends at once at the second.
	t.Run("second-sigint", func(t *testing.T) {
		p := start(t, "lint", "-f", "-")
		if _, err := p.stdin.Write(bigMirrorSets(2000)); err != nil {
			t.Fatal(err)
		}
		p.signal(t, syscall.SIGINT)
		time.Sleep(500 * time.Millisecond)
		if !p.running() {
			t.Logf("ended at the first SIGINT: reading stdin honours the context")
		}
		sent := time.Now()
		if p.running() {
			p.signal(t, syscall.SIGINT)
		}
		code := p.wait(t, 5*time.Second)
		t.Logf("exit %d %v after the second SIGINT", code, time.Since(sent).Round(time.Millisecond))
		checkInterrupted(t, p, code, 130)
	})
}

// TestUsageExit checks exit 2 and the usage line for a wrong command line,
// against exit 1 for a command that ran and found a problem.
func TestUsageExit(t *testing.T) {
	bin := hcpmirrorBinary(t)
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"lint", "--no-such-flag"}, 2},
		{[]string{"no-such-command"}, 2},
		{[]string{"resolve"}, 2},
		{[]string{"verify", "--concurrency", "many"}, 2},
		{[]string{"resolve", "-f", "no-such-file.yaml", "quay.io/a/b"}, 1},
	} {
		cmd := exec.Command(bin, tt.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != tt.want {
			t.Errorf("hcpmirror %v: %v, want exit status %d; stderr:\n%s", tt.args, err, tt.want, stderr.String())
			continue
		}
		if tt.want == 2 && (!strings.Contains(stderr.String(), "usage: hcpmirror") || !strings.Contains(stderr.String(), "--help'")) {
			t.Errorf("hcpmirror %v: stderr lacks the usage line and the --help hint:\n%s", tt.args, stderr.String())
		}
	}
}
