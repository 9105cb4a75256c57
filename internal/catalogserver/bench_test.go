package catalogserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/operator-framework/operator-registry/pkg/api"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

var (
	buildOnce sync.Once
	buildDir  string
	binaries  map[string]string
	buildErr  error
)

// TestMain removes the binaries built for the tests that run them.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildBinaries builds the shipped binary and the opm peer once.
func buildBinaries(b testing.TB) map[string]string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "catalogserver-bench")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		binaries = map[string]string{"hcpmirror": filepath.Join(dir, "hcpmirror"), "opm": filepath.Join(dir, "opmpeer")}
		for name, pkg := range map[string]string{"hcpmirror": "github.com/hcpmirror/hcpmirror/cmd/hcpmirror", "opm": "./testdata/opmpeer"} {
			if out, err := exec.Command("go", "build", "-o", binaries[name], pkg).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binaries
}

func freeAddr(b testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// rssKiB reads a process's resident set (VmRSS) and its peak (VmHWM).
func rssKiB(pid int) (rss, peak int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			peak = v
		}
	}
	return rss, peak
}

// BenchmarkServers runs hcpmirror catalog-server (the shipped binary,
// pulling the catalog image from a registry on 127.0.0.1) and, in the same
// run, its peer: operator-registry's own server as `opm serve` runs it
// (pkg/cache built into an empty cache directory, pkg/server on grpc-go;
// testdata/opmpeer) on the same catalog written to a directory. A catalog
// of 1,000 bundles (100 packages of 10, each with an 8 KiB CSV manifest).
// Reported per server: seconds from process start to the health check
// answering SERVING, ms per full ListBundles stream (grpc-go client), and
// the resident set after the ListBundles runs (VmRSS) and at its peak
// (VmHWM), in MiB.
func BenchmarkServers(b *testing.B) {
	bins := buildBinaries(b)
	files := syntheticCatalog(100, 10)
	dir := b.TempDir()
	writeCatalog(b, dir, files)
	reg := testreg.Start(b)
	ref := reg.Addr + "/bench/catalog:v1"
	push(b, ref, catalogImage(b, files))
	servers := []struct {
		name string
		args func(addr string) []string
	}{
		{"hcpmirror", func(addr string) []string {
			return []string{bins["hcpmirror"], "catalog-server", "--namespace=", "--catalog-image=" + ref, "--listen=" + addr, "--insecure-registry=" + reg.Addr}
		}},
		{"opm-serve", func(addr string) []string {
			return []string{bins["opm"], "--listen=" + addr, "--cache-dir=" + filepath.Join(b.TempDir(), "cache"), dir}
		}},
	}
	for _, s := range servers {
		b.Run("server="+s.name, func(b *testing.B) {
			addr := freeAddr(b)
			args := s.args(addr)
			cmd := exec.Command(args[0], args[1:]...)
			stderr, _ := cmd.StderrPipe()
			cmd.Stdout = io.Discard
			start := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(stderr)) }()
			b.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			})
			conn := dial(b, addr)
			hc := grpc_health_v1.NewHealthClient(conn)
			var serving time.Duration
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				r, err := hc.Check(ctx, &grpc_health_v1.HealthCheckRequest{})
				cancel()
				if err == nil && r.Status == grpc_health_v1.HealthCheckResponse_SERVING {
					serving = time.Since(start)
					break
				}
				if time.Since(start) > 2*time.Minute {
					b.Fatalf("%s not SERVING after 2 minutes: %v", s.name, err)
				}
				time.Sleep(2 * time.Millisecond)
			}
			c := api.NewRegistryClient(conn)
			count := func() int {
				st, err := c.ListBundles(context.Background(), &api.ListBundlesRequest{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := st.Recv()
					if errors.Is(err, io.EOF) {
						return n
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			if n := count(); n != 1000 {
				b.Fatalf("ListBundles sent %d bundles, want 1000", n)
			}
			b.ResetTimer()
			for b.Loop() {
				count()
			}
			b.StopTimer()
			rss, peak := rssKiB(cmd.Process.Pid)
			b.ReportMetric(serving.Seconds(), "s-to-SERVING")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/ListBundles")
			b.ReportMetric(float64(rss)/1024, "MiB-RSS")
			b.ReportMetric(float64(peak)/1024, "MiB-peak-RSS")
		})
	}
}

// TestProcessStopsOnSIGTERM runs the shipped binary's catalog-server, as a
// kubelet would stop it: SERVING, then SIGTERM ends it at once and cleanly
// (exit status 0: a server's normal end), and the port is free again.
func TestProcessStopsOnSIGTERM(t *testing.T) {
	bins := buildBinaries(t)
	reg := testreg.Start(t)
	ref := reg.Addr + "/proc/catalog:v1"
	push(t, ref, catalogImage(t, oracleCatalog()))
	addr := freeAddr(t)
	cmd := exec.Command(bins["hcpmirror"], "catalog-server", "--namespace=", "--catalog-image="+ref, "--listen="+addr, "--insecure-registry="+reg.Addr)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hc := grpc_health_v1.NewHealthClient(dial(t, addr))
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		r, err := hc.Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		cancel()
		if err == nil && r.Status == grpc_health_v1.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("not SERVING: %v\n%s", err, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("catalog-server after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("catalog-server did not stop on SIGTERM\n%s", logs.String())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("the port is still taken after the exit: %v", err)
	} else {
		ln.Close()
	}
	if !strings.Contains(logs.String(), "catalog loaded") {
		t.Errorf("the log does not say what was loaded:\n%s", logs.String())
	}
}
