package mirror

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// TestBenchmarkMirror compares, in one run and on the same machine, the
// shipped CLI (`hcpmirror mirror`, a separate process) with `skopeo sync
// --all` of exactly the same images, between distribution registries on
// 127.0.0.1 storing on disk, cold and with nothing changed, and beside them
// the bound: `cp` of the same unique bytes on the local disk. It prints the
// requests and CPU each side cost, and what that CPU bounds (logBound). Run
// with
//
//	HCPMIRROR_BENCH=1 go test ./pkg/mirror -run TestBenchmarkMirror -v
//
// HCPMIRROR_BENCH_TLS=1 runs the registries over HTTPS;
// HCPMIRROR_BENCH_PROFILE=DIR writes profiles (see profileCold).
//
// The workload is a 190-component synthetic release (one base layer shared
// by all components, 1-2 own layers of 1 MiB each, a few manifest lists),
// its KubeVirt image, and four additional images sharing a 40 MiB base layer
// with a 20 MiB layer each.
func TestBenchmarkMirror(t *testing.T) {
	if os.Getenv("HCPMIRROR_BENCH") == "" {
		t.Skip("set HCPMIRROR_BENCH=1 to run the mirror benchmark")
	}
	const layer = 1 << 20
	store := t.TempDir()
	// HCPMIRROR_BENCH_TLS=1 runs every registry over HTTPS, as mirrors
	// run in practice: both tools then trust the registries' CAs instead
	// of speaking plain HTTP to them.
	tlsMode := os.Getenv("HCPMIRROR_BENCH_TLS") != ""
	startReg := func(dir string, opts ...testreg.Option) *testreg.Registry {
		opts = append(opts, testreg.WithDataDir(filepath.Join(store, dir)))
		if tlsMode {
			opts = append(opts, testreg.WithTLS())
		}
		return testreg.Start(t, opts...)
	}
	// trust is the CLI's flags for reaching regs.
	trust := func(regs ...*testreg.Registry) []string {
		var f []string
		for _, r := range regs {
			if tlsMode {
				f = append(f, "--ca-file", r.CAFile)
			} else {
				f = append(f, "--insecure-registry", r.Addr)
			}
		}
		return f
	}
	var upKinds, destKinds, skopeoKinds requestKinds
	up := startReg("upstream", testreg.WithHandler(upKinds.wrap))
	dest := startReg("dest", testreg.WithHandler(destKinds.wrap))
	destSkopeo := startReg("dest-skopeo", testreg.WithHandler(skopeoKinds.wrap))
	dest16 := startReg("dest-16")
	t.Logf("registries over %s", up.Scheme())
	l := &lab{upstream: up, dest: dest, releases: map[string]*synthrelease.Published{}}
	l.graphs = newGraphs()
	srv := startGraph(t, l.graphs)
	l.graphURL = srv + "/graph"
	start := time.Now()
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination: up.Addr, Components: synthrelease.DefaultComponentCount, LayerSize: layer, Seed: 7,
		RemoteOptions:  mustClient(t, up).RemoteOptions(t.Context()),
		ComponentsRepo: "openshift-release-dev/ocp-v4.0-art-dev", ReleaseRepo: "openshift-release-dev/ocp-release",
		EditManifests: func(files map[string][]byte) error {
			for _, f := range []string{release.ImageReferencesFile, release.BootImagesFile} {
				files[f] = []byte(strings.ReplaceAll(string(files[f]), "quay.io/openshift-release-dev/", up.Addr+"/openshift-release-dev/"))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := l.graphs["stable-4.16"]["amd64"]
	g.Nodes = append(g.Nodes, nodeFor(pub))
	base, err := random.Layer(40<<20, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for i := range 4 {
		own, err := random.Layer(20<<20, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, base, own)
		if err != nil {
			t.Fatal(err)
		}
		ref := fmt.Sprintf("%s/bench/big-%d:1", up.Addr, i)
		pushTo(t, up, ref, img)
		extra = append(extra, ref)
	}
	t.Logf("workload published in %v", time.Since(start).Round(time.Millisecond))

	dir := t.TempDir()
	bin := filepath.Join(dir, "hcpmirror")
	build := exec.Command("go", "build", "-o", bin, "github.com/hcpmirror/hcpmirror/cmd/hcpmirror")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hcpmirror: %v\n%s", err, out)
	}
	isc := filepath.Join(dir, "isc.yaml")
	body := "apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  platform:\n    kubeVirtContainer: true\n    channels:\n    - name: stable-4.16\n  additionalImages:\n"
	for _, e := range extra {
		body += "  - name: " + e + "\n"
	}
	if err := os.WriteFile(isc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(dir, "ws")
	args := append(append([]string{"mirror", "-c", isc, "--workspace", ws, "--graph-url", l.graphURL}, trust(up, dest)...), "-q", "-o", "json", "docker://"+dest.Addr+"/hcp")
	cpu0, up0, dest0, flt0 := selfCPU(), up.Requests(), dest.Requests(), selfFaults()
	upConn0 := up.Connections()
	upKinds.reset()
	destKinds.trace = os.Getenv("HCPMIRROR_BENCH_PROFILE") != ""
	coldStart := time.Now()
	stopProfile := profileCold(t)
	pbin, pargs := profiled(t, "cli", bin, args)
	cold, rep := runTimed(t, pbin, pargs...)
	stopProfile()
	if destKinds.trace {
		_ = os.WriteFile(filepath.Join(os.Getenv("HCPMIRROR_BENCH_PROFILE"), "mirror-requests.txt"), []byte(destKinds.timeline(coldStart, 100*time.Millisecond)), 0o644)
	}
	regCPU, regFaults := selfCPU()-cpu0, selfFaults()-flt0
	coldUp, coldDest := upKinds.String(), destKinds.String()
	upReq, destReq := up.Requests()-up0, dest.Requests()-dest0
	upConn, destConn := up.Connections()-upConn0, dest.Connections()
	var r Report
	if err := json.Unmarshal(rep, &r); err != nil {
		t.Fatalf("report: %v\n%s", err, rep)
	}
	if !r.Complete() {
		t.Fatalf("cold run incomplete: %d failed", r.Failed)
	}
	upKinds.reset()
	destKinds.reset()
	pbin, pargs = profiled(t, "cli-no-change", bin, args)
	wcpu0 := selfCPU()
	warm, rep2 := runTimed(t, pbin, pargs...)
	warmRegCPU := selfCPU() - wcpu0
	warmUp, warmDest := upKinds.String(), destKinds.String()
	var r2 Report
	_ = json.Unmarshal(rep2, &r2)

	// The same images for skopeo: every source, by digest or tag.
	repos := map[string][]string{}
	for _, res := range r.Results {
		src := res.Image.Source
		repo := strings.TrimPrefix(res.Image.SourceRepo(), up.Addr+"/")
		ref := strings.TrimPrefix(src, res.Image.SourceRepo())
		repos[repo] = append(repos[repo], strings.TrimLeft(ref, ":@"))
	}
	var y strings.Builder
	if tlsMode {
		fmt.Fprintf(&y, "%s:\n  cert-dir: %s\n  images:\n", up.Addr, caDir(t, up))
	} else {
		fmt.Fprintf(&y, "%s:\n  tls-verify: false\n  images:\n", up.Addr)
	}
	names := make([]string, 0, len(repos))
	for k := range repos {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&y, "    %s:\n", k)
		for _, v := range repos[k] {
			fmt.Fprintf(&y, "    - %q\n", v)
		}
	}
	syncFile := filepath.Join(dir, "sync.yaml")
	if err := os.WriteFile(syncFile, []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	unique := uniqueBytes(t, up, r)
	t.Logf("workload: %d images, %.1f MiB of unique blobs", len(r.Results), float64(unique)/(1<<20))
	t.Logf("hcpmirror cold: %v (%.1f MiB sent, %.0f MiB/s), max RSS %d MiB; requests: %d to the upstream, %d to the mirror", cold.d.Round(time.Millisecond), float64(r.Bytes)/(1<<20), float64(r.Bytes)/(1<<20)/cold.d.Seconds(), cold.rss>>10, upReq, destReq)
	t.Logf("  upstream: %s; %d connections", coldUp, upConn)
	t.Logf("  mirror: %s; %d connections", coldDest, destConn)
	t.Logf("  CPU: hcpmirror %v, the registries (this process) %v (%d page faults), over %v wall on %d CPUs", cold.cpu.Round(time.Millisecond), regCPU.Round(time.Millisecond), regFaults, cold.d.Round(time.Millisecond), runtime.NumCPU())
	args16 := append(append([]string{"mirror", "-c", isc, "--workspace", filepath.Join(dir, "ws16"), "--graph-url", l.graphURL}, trust(up, dest16)...), "-q", "-o", "json", "--parallel", "16", "docker://"+dest16.Addr+"/hcp")
	c16, _ := runTimed(t, bin, args16...)
	t.Logf("hcpmirror cold --parallel 16: %v", c16.d.Round(time.Millisecond))
	t.Logf("hcpmirror no-change: %v (%.1f%% of cold), %d present; CPU: hcpmirror %v, the registries %v", warm.d.Round(time.Millisecond), 100*warm.d.Seconds()/cold.d.Seconds(), r2.Present, warm.cpu.Round(time.Millisecond), warmRegCPU.Round(time.Millisecond))
	t.Logf("  upstream: %s", warmUp)
	t.Logf("  mirror: %s", warmDest)

	if sk, err := exec.LookPath("skopeo"); err != nil {
		t.Logf("skopeo not installed: no comparison (apt-get install -y skopeo)")
	} else {
		destTrust := "--dest-tls-verify=false"
		if tlsMode {
			destTrust = "--dest-cert-dir=" + caDir(t, destSkopeo)
		}
		sargs := []string{"sync", "--all", "--src", "yaml", "--dest", "docker", destTrust, syncFile, destSkopeo.Addr + "/skopeo"}
		sup0, supConn0 := up.Requests(), up.Connections()
		upKinds.reset()
		scpu0, sflt0 := selfCPU(), selfFaults()
		scold, _ := runTimed(t, sk, sargs...)
		sregCPU := selfCPU() - scpu0
		t.Logf("  CPU: skopeo %v, the registries %v (%d page faults), over %v wall", scold.cpu.Round(time.Millisecond), sregCPU.Round(time.Millisecond), selfFaults()-sflt0, scold.d.Round(time.Millisecond))
		t.Logf("skopeo requests: %d to the upstream, %d to the mirror", up.Requests()-sup0, destSkopeo.Requests())
		t.Logf("  upstream: %s; %d connections", upKinds.String(), up.Connections()-supConn0)
		t.Logf("  mirror: %s; %d connections", skopeoKinds.String(), destSkopeo.Connections())
		swarm, _ := runTimed(t, sk, sargs...)
		t.Logf("skopeo sync cold: %v (hcpmirror %.1fx faster), max RSS %d MiB", scold.d.Round(time.Millisecond), scold.d.Seconds()/cold.d.Seconds(), scold.rss>>10)
		t.Logf("skopeo sync no-change: %v (%.1f%% of its cold)", swarm.d.Round(time.Millisecond), 100*swarm.d.Seconds()/scold.d.Seconds())
		logBound(t, cold, regCPU, scold, sregCPU)
	}

	// Memory does not follow layer size: one image with a 256 MiB layer.
	bigLayer := make([]byte, 256<<20)
	for i := range bigLayer {
		bigLayer[i] = byte(i*31 + i>>13)
	}
	huge, err := mutate.AppendLayers(empty.Image, static.NewLayer(bigLayer, types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	bigLayer = nil
	pushTo(t, up, up.Addr+"/bench/huge:1", huge)
	hugeISC := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(hugeISC, []byte("apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n  - name: "+up.Addr+"/bench/huge:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hcpu0 := selfCPU()
	stopProfile = profileRun(t, "registries-huge.pprof")
	hr, _ := runTimed(t, bin, append(append([]string{"mirror", "-c", hugeISC, "--workspace", filepath.Join(dir, "ws-huge")}, trust(up, dest)...), "-q", "docker://"+dest.Addr+"/hcp")...)
	hugeRegCPU := selfCPU() - hcpu0
	stopProfile()
	t.Logf("hcpmirror, one image with a 256 MiB layer: %v, max RSS %d MiB (release run with 40 MiB layers: %d MiB)", hr.d.Round(time.Millisecond), hr.rss>>10, cold.rss>>10)
	// What the registries' CPU goes to: the huge layer is nearly all
	// bytes, a handful of requests; at its cost per byte, the rest of the
	// cold run's registry CPU is the cost of its requests.
	perMiB := hugeRegCPU.Seconds() / 256
	byteCPU := perMiB * float64(unique) / (1 << 20)
	reqs := upReq + destReq
	t.Logf("  the registries' CPU: %.2fs for the 256 MiB layer (%.1f ms/MiB, hcpmirror %.1f ms/MiB); at that rate the cold run's bytes cost them %.2fs of their %.2fs, its %d requests the other %.2fs (%.1f ms each)",
		hugeRegCPU.Seconds(), 1000*perMiB, 1000*hr.cpu.Seconds()/256, byteCPU, regCPU.Seconds(), reqs, regCPU.Seconds()-byteCPU, 1000*(regCPU.Seconds()-byteCPU)/float64(reqs))

	// The bound: the same unique bytes copied file to file on this disk.
	a, b := filepath.Join(dir, "bytes-a"), filepath.Join(dir, "bytes-b")
	writeBytes(t, a, unique)
	cp, _ := runTimed(t, "sh", "-c", "cp -r "+a+" "+b+" && sync")
	t.Logf("bound, cp -r + sync of %.1f MiB: %v (hcpmirror cold at %.0f%% of it)", float64(unique)/(1<<20), cp.d.Round(time.Millisecond), 100*cp.d.Seconds()/cold.d.Seconds())
}

// HCPMIRROR_BENCH_PROFILE=DIR profiles the cold run: DIR/registries.pprof
// is this process (the registries) during it (DIR/registries-huge.pprof
// during the copy of the 256 MiB layer), DIR/cpu.txt its CPU
// timeline, DIR/mirror-requests.txt the mirror's requests in flight and
// bytes received over time; with HCPMIRROR_BENCH_PERF=1 too, DIR/cli.perf and
// DIR/cli-no-change.perf are the CLI's, recorded by perf(1) (read them with
// `perf report -i`).
func profileCold(t *testing.T) func() {
	dir := os.Getenv("HCPMIRROR_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	stopCPU := profileRun(t, "registries.pprof")
	// CPU use over the run, every 100 ms, in % of one CPU: the machine's
	// (all processes; 100% is one CPU), this process's (the registries)
	// and the CLI's. A copy bound by CPU keeps the machine near its total,
	// one bound by latency leaves it idle; a tail shows as the CLI and the
	// registries falling off before the end.
	done := make(chan struct{})
	var timeline strings.Builder
	timeline.WriteString("seconds machine registries cli\n")
	go func() {
		tick := time.Duration(100 * time.Millisecond)
		busy0, total0 := machineCPU()
		reg0, cli0 := selfCPU(), cliCPU()
		start := time.Now()
		for last := start; ; {
			select {
			case <-done:
				return
			case <-time.After(tick):
			}
			busy, total := machineCPU()
			reg, cli := selfCPU(), cliCPU()
			now := time.Now()
			if total > total0 {
				el := float64(now.Sub(last))
				fmt.Fprintf(&timeline, "%.1f %3.0f%% %3.0f%% %3.0f%%\n", now.Sub(start).Seconds(),
					100*float64(runtime.NumCPU())*float64(busy-busy0)/float64(total-total0),
					100*float64(reg-reg0)/el, 100*float64(max(0, cli-cli0))/el)
			}
			busy0, total0, reg0, cli0, last = busy, total, reg, cli, now
		}
	}()
	return func() {
		close(done)
		stopCPU()
		_ = os.WriteFile(filepath.Join(dir, "cpu.txt"), []byte(timeline.String()), 0o644)
	}
}

// cliCPU is the CPU time of the running hcpmirror processes.
func cliCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), "(hcpmirror)") {
			continue
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest)
		if len(fields) > 12 {
			var u, s int64
			fmt.Sscan(fields[11], &u)
			fmt.Sscan(fields[12], &s)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// machineCPU reads the busy and total jiffies of all CPUs from /proc/stat.
func machineCPU() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		var v int64
		fmt.Sscan(f, &v)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// profileRun starts a CPU profile of this process (the registries) into
// HCPMIRROR_BENCH_PROFILE/name when that is set; the function returned
// stops it.
func profileRun(t *testing.T, name string) func() {
	dir := os.Getenv("HCPMIRROR_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatalf("profiling the registries (drop -test.cpuprofile): %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// profiled runs bin under perf(1), recording DIR/name.perf, when
// HCPMIRROR_BENCH_PROFILE=DIR and HCPMIRROR_BENCH_PERF=1 are set and perf
// is installed. The wall time and peak RSS of a run under perf are perf's.
func profiled(t *testing.T, name, bin string, args []string) (string, []string) {
	dir := os.Getenv("HCPMIRROR_BENCH_PROFILE")
	if dir == "" || os.Getenv("HCPMIRROR_BENCH_PERF") == "" {
		return bin, args
	}
	perf, err := exec.LookPath("perf")
	if err != nil {
		t.Logf("perf not installed: the CLI is not profiled")
		return bin, args
	}
	return perf, append([]string{"record", "-g", "-q", "-o", filepath.Join(dir, name+".perf"), "--", bin}, args...)
}

// pushTo pushes img to ref on r, over TLS or not.
func pushTo(t *testing.T, r *testreg.Registry, ref string, img v1.Image) {
	t.Helper()
	nr, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(nr, img, mustClient(t, r).RemoteOptions(t.Context())...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// caDir is a directory holding only r's CA certificate, for skopeo's
// cert-dir (which would take a CA key beside it for a client key).
func caDir(t *testing.T, r *testreg.Registry) string {
	t.Helper()
	b, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logBound says what bounds the cold comparison. Copying between two local
// registries costs CPU in three places: the client, the registry serving
// blobs and the registry storing them; on a machine with N CPUs a run
// cannot end before all of it is done, so the registries' share alone
// floors every client's time at (their CPU)/N, and caps the speed-up over
// skopeo even for a client that costs nothing. When the machine is busy
// (other work running, or CPU-bound runs as here) the speed-up tends to
// the ratio of the CPU each tool makes the machine spend.
func logBound(t *testing.T, ours timed, ourRegs time.Duration, sk timed, skRegs time.Duration) {
	n := float64(runtime.NumCPU())
	regFloor := ourRegs.Seconds() / n
	ourFloor := (ours.cpu + ourRegs).Seconds() / n
	ourTotal, skTotal := (ours.cpu + ourRegs).Seconds(), (sk.cpu + skRegs).Seconds()
	t.Logf("bound: the registries spent %.2fs of CPU on hcpmirror's requests, hcpmirror %.2fs itself: on %d idle CPUs no client can finish below %.2fs, hcpmirror not below %.2fs (it took %.2fs, %.0f%% of the machine)",
		ourRegs.Seconds(), ours.cpu.Seconds(), runtime.NumCPU(), regFloor, ourFloor, ours.d.Seconds(), 100*ourTotal/(n*ours.d.Seconds()))
	t.Logf("  against skopeo's %.2fs that caps the speed-up at %.1fx for a client costing no CPU, %.1fx for hcpmirror; CPU per run: hcpmirror and its registries %.2fs, skopeo and its registries %.2fs (%.1fx, the speed-up on a machine with no idle CPU)",
		sk.d.Seconds(), sk.d.Seconds()/regFloor, sk.d.Seconds()/ourFloor, ourTotal, skTotal, skTotal/ourTotal)
}

type timed struct {
	d   time.Duration
	rss int64 // KiB
	cpu time.Duration
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfFaults is this process's minor page faults so far.
func selfFaults() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}

func runTimed(t *testing.T, bin string, args ...string) (timed, []byte) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Peak RSS from /proc (VmHWM), sampled until the process exits: the
	// rusage of a child started by a large test process reports the
	// parent's size.
	var hwm atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						var kb int64
						fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
						if kb > hwm.Load() {
							hwm.Store(kb)
						}
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s\n%s", bin, args, err, stderr.String(), stdout.String())
	}
	return timed{d, hwm.Load(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, []byte(stdout.String())
}

// uniqueBytes sums the distinct blobs of the mirrored images.
func uniqueBytes(t *testing.T, up *testreg.Registry, r Report) int64 {
	t.Helper()
	src, err := NewRegistrySource(t.Context(), mustClient(t, up))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	var walk func(ref string)
	walk = func(ref string) {
		raw, mt, _, err := src.Manifest(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if mt.IsIndex() {
			var idx struct{ Manifests []struct{ Digest string } }
			_ = json.Unmarshal(raw, &idx)
			for _, m := range idx.Manifests {
				walk(repoOf(ref) + "@" + m.Digest)
			}
			return
		}
		var m struct {
			Config struct {
				Digest string
				Size   int64
			}
			Layers []struct {
				Digest string
				Size   int64
			}
		}
		_ = json.Unmarshal(raw, &m)
		seen[m.Config.Digest] = m.Config.Size
		for _, l := range m.Layers {
			seen[l.Digest] = l.Size
		}
	}
	for _, res := range r.Results {
		walk(res.Image.Source)
	}
	var n int64
	for _, s := range seen {
		n += s
	}
	return n
}

func writeBytes(t *testing.T, dir string, n int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for i := 0; n > 0; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("blob-%04d", i)))
		if err != nil {
			t.Fatal(err)
		}
		size := min(n, 8<<20)
		for w := int64(0); w < size; w += int64(len(buf)) {
			if _, err := f.Write(buf[:min(int64(len(buf)), size-w)]); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		n -= size
	}
}
