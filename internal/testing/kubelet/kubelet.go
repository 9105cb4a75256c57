// Package kubelet is a kubelet stand-in for tests: it takes a Deployment as
// an operator wrote it and runs its container as a local process the way a
// kubelet would, against the test's real API server, so that no owned
// Deployment is called done before it ran.
//
// What it honours, as a kubelet does:
//   - command and args as written (command empty: the image's entrypoint,
//     which for hcpmirror's image is the hcpmirror binary); the executable
//     named by command[0] is looked up in Options.Binaries, where "hcpmirror"
//     is the test-built binary (Binary builds it once per test binary);
//   - env, with valueFrom resolved: fieldRef (metadata.namespace,
//     metadata.name, spec.serviceAccountName), secretKeyRef and
//     configMapKeyRef (optional ones skipped when missing);
//   - Secret and ConfigMap volumes, materialised (keys as files, items and
//     modes honoured) and mounted read-only at their mount paths, and
//     emptyDir volumes, an empty directory of the pod's, mounted writable
//     (unless the mount says readOnly);
//   - the service account token, made with the TokenRequest API for the pod
//     template's serviceAccountName, with ca.crt and namespace, at
//     /var/run/secrets/kubernetes.io/serviceaccount, and
//     KUBERNETES_SERVICE_HOST/PORT pointing at the API server, so that the
//     process's in-cluster configuration is the pod's identity.
//
// Mount paths are absolute, and parallel tests each want their own. The
// process runs in a private mount namespace (unshare -m, propagation
// private; as root, or in a user namespace mapping the caller to root): the deepest existing ancestor directory
// of each mount path is covered by an overlay whose upper layer is in the
// test's temporary directory, the missing directories are made there, and
// each volume is bind-mounted read-only at its path. Nothing is written
// outside the test's directory and no other process sees the mounts; the
// overlaid directory shows its own filesystem only (mounts below it are not
// visible to the process).
//
// Pod.Ready and Pod.Live run the container's readiness and liveness probes
// once, as the kubelet's prober does (HTTP GET, TCP connect, gRPC health
// Check), on the probes' host ports; the stand-in does not run them on its
// own, and never restarts a container.
//
// Two deviations, because local processes share one network namespace:
// every declared containerPort N is given a free host port P, and an
// argument ending in "=:N" or "=0.0.0.0:N" is rewritten to "=127.0.0.1:P"
// (Pod.Port tells P). Volumes are not updated while the process runs (a
// kubelet refreshes them within a minute): components are expected to read
// what changes from the API.
package kubelet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// ServiceAccountMountPath is where a kubelet puts the service account token.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/hcpmirror once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("locating the module: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "hcpmirror-kubelet-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "hcpmirror")
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", buildPath, "./cmd/hcpmirror")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/hcpmirror: %w\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Options configure the stand-in.
type Options struct {
	// Config is an admin configuration of the API server: it reads the
	// Secrets and ConfigMaps and requests the token, as a kubelet would.
	Config *rest.Config
	// Binaries maps an executable name (command[0], or "hcpmirror" for an
	// empty command) to a local path.
	Binaries map[string]string
	// Container picks the container by name; empty is the first.
	Container string
	// Dir holds the pods' volumes and overlay layers; Run sets it to the
	// test's temporary directory. Required for Start.
	Dir string
}

// Pod is one running container of a Deployment.
type Pod struct {
	opts  Options
	dep   *appsv1.Deployment
	ports map[int32]int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	logs   bytes.Buffer
	exited error
}

// Start starts dep's container; Stop ends it. For programs (the lab's
// demo); tests use Run.
func Start(opts Options, dep *appsv1.Deployment) (*Pod, error) {
	if opts.Dir == "" {
		return nil, errors.New("kubelet stand-in: Options.Dir is required")
	}
	p := &Pod{opts: opts, dep: dep.DeepCopy(), ports: map[int32]int{}}
	if err := p.start(); err != nil {
		return nil, fmt.Errorf("kubelet stand-in: starting Deployment %s/%s: %w", dep.Namespace, dep.Name, err)
	}
	return p, nil
}

// Run starts dep's container and stops it when the test ends.
func Run(t testing.TB, opts Options, dep *appsv1.Deployment) *Pod {
	t.Helper()
	opts.Dir = t.TempDir()
	p, err := Start(opts, dep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("logs of %s/%s:\n%s", dep.Namespace, dep.Name, p.Logs())
		}
	})
	return p
}

// Port is the host port a declared containerPort was given.
func (p *Pod) Port(containerPort int32) int { return p.ports[containerPort] }

// Logs returns what the process wrote to stdout and stderr so far.
func (p *Pod) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// Exited reports whether the process ended, and how.
func (p *Pod) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.exited
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, as a kubelet does, and SIGKILL after 10 s.
func (p *Pod) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the process at once (SIGKILL), like a node that died.
func (p *Pod) Kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Restart stops the process and starts a new one from the same Deployment,
// with volumes, environment and token made afresh, as a new pod would be.
func (p *Pod) Restart() error {
	p.Stop()
	if err := p.start(); err != nil {
		return fmt.Errorf("kubelet stand-in: restarting %s/%s: %w", p.dep.Namespace, p.dep.Name, err)
	}
	return nil
}

func (p *Pod) container() (*corev1.Container, error) {
	cs := p.dep.Spec.Template.Spec.Containers
	for i := range cs {
		if p.opts.Container == "" || cs[i].Name == p.opts.Container {
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("no container %q", p.opts.Container)
}

func (p *Pod) start() error {
	ctx := context.Background()
	ct, err := p.container()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(p.opts.Config)
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp(p.opts.Dir, "pod-")
	if err != nil {
		return err
	}
	ns := p.dep.Namespace
	podName := p.dep.Name + "-standin"

	// Volumes.
	sources := map[string]string{} // volume name -> materialised directory
	writable := map[string]bool{}  // emptyDir volumes
	for _, v := range p.dep.Spec.Template.Spec.Volumes {
		writable[v.Name] = v.EmptyDir != nil
		dir := filepath.Join(root, "volumes", v.Name)
		if err := materialise(ctx, cs, ns, v, dir); err != nil {
			return fmt.Errorf("volume %q: %w", v.Name, err)
		}
		sources[v.Name] = dir
	}
	var mounts []mount
	for _, m := range ct.VolumeMounts {
		src, ok := sources[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %q: no such volume (or not a Secret, ConfigMap or emptyDir one)", m.Name)
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
		}
		mounts = append(mounts, mount{src: src, dst: m.MountPath, rw: writable[m.Name] && !m.ReadOnly})
	}

	// The service account token.
	spec := p.dep.Spec.Template.Spec
	saName := spec.ServiceAccountName
	if saName == "" {
		saName = "default"
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, saName, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", ns, saName, err)
		}
		dir := filepath.Join(root, "volumes", "kube-api-access")
		files := map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": p.opts.Config.CAData, "namespace": []byte(ns)}
		if err := writeFiles(dir, files, 0o644); err != nil {
			return err
		}
		mounts = append(mounts, mount{src: dir, dst: ServiceAccountMountPath})
	}

	// Environment.
	u, err := url.Parse(p.opts.Config.Host)
	if err != nil {
		return fmt.Errorf("parsing the API server address %q: %w", p.opts.Config.Host, err)
	}
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + root, "HOSTNAME=" + podName,
		"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	for _, e := range ct.Env {
		v, ok, err := resolveEnv(ctx, cs, ns, podName, saName, e)
		if err != nil {
			return fmt.Errorf("env %s: %w", e.Name, err)
		}
		if ok {
			env = append(env, e.Name+"="+expand(v, env))
		}
	}

	// Ports, then command and args.
	if len(p.ports) == 0 {
		for _, port := range ct.Ports {
			hp, err := freePort()
			if err != nil {
				return err
			}
			p.ports[port.ContainerPort] = hp
		}
	}
	argv := append(append([]string{}, ct.Command...), ct.Args...)
	if len(ct.Command) == 0 {
		argv = append([]string{"hcpmirror"}, ct.Args...)
	}
	for i, a := range argv {
		argv[i] = p.rewritePort(expand(a, env))
	}
	bin, ok := p.opts.Binaries[argv[0]]
	if !ok {
		return fmt.Errorf("no local binary for %q (Options.Binaries)", argv[0])
	}
	argv[0] = bin

	// The mount namespace.
	script, err := mountScript(root, mounts)
	if err != nil {
		return err
	}
	unshare := []string{"--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		// Without root, a user namespace maps the caller to root in it:
		// mounts are then allowed (Linux 5.11+ for overlays).
		unshare = append([]string{"--map-root-user"}, unshare...)
	}
	cmd := exec.Command("unshare", append(append(unshare, "/bin/sh", "-ec", script, "sh"), argv...)...)
	cmd.Env = env
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w := &lockedWriter{p: p}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %v: %w", argv, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exited = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

type lockedWriter struct{ p *Pod }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

// rewritePort maps "=:N" and "=0.0.0.0:N" of a declared port to the host port.
func (p *Pod) rewritePort(arg string) string {
	for cp, hp := range p.ports {
		for _, suffix := range []string{"=:" + strconv.Itoa(int(cp)), "=0.0.0.0:" + strconv.Itoa(int(cp))} {
			if strings.HasSuffix(arg, suffix) {
				return strings.TrimSuffix(arg, suffix) + "=127.0.0.1:" + strconv.Itoa(hp)
			}
		}
	}
	return arg
}

// expand does the kubelet's $(VAR) expansion of env values, command and args.
func expand(s string, env []string) string {
	if !strings.Contains(s, "$(") {
		return s
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		s = strings.ReplaceAll(s, "$("+k+")", v)
	}
	return s
}

func resolveEnv(ctx context.Context, cs kubernetes.Interface, ns, podName, sa string, e corev1.EnvVar) (string, bool, error) {
	if e.ValueFrom == nil {
		return e.Value, true, nil
	}
	switch f := e.ValueFrom; {
	case f.FieldRef != nil:
		switch f.FieldRef.FieldPath {
		case "metadata.namespace":
			return ns, true, nil
		case "metadata.name":
			return podName, true, nil
		case "spec.serviceAccountName":
			return sa, true, nil
		}
		return "", false, fmt.Errorf("fieldRef %s is not supported by the stand-in", f.FieldRef.FieldPath)
	case f.SecretKeyRef != nil:
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, f.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil || s.Data[f.SecretKeyRef.Key] == nil {
			if ptr.Deref(f.SecretKeyRef.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("secretKeyRef %s/%s: %v", f.SecretKeyRef.Name, f.SecretKeyRef.Key, err)
		}
		return string(s.Data[f.SecretKeyRef.Key]), true, nil
	case f.ConfigMapKeyRef != nil:
		c, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, f.ConfigMapKeyRef.Name, metav1.GetOptions{})
		v, has := "", false
		if err == nil {
			v, has = c.Data[f.ConfigMapKeyRef.Key]
		}
		if !has {
			if ptr.Deref(f.ConfigMapKeyRef.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("configMapKeyRef %s/%s: missing (%v)", f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key, err)
		}
		return v, true, nil
	}
	return "", false, errors.New("valueFrom kind not supported by the stand-in")
}

// materialise writes a Secret or ConfigMap volume into dir. A missing
// object fails, as it keeps a real pod from starting, unless optional.
func materialise(ctx context.Context, cs kubernetes.Interface, ns string, v corev1.Volume, dir string) error {
	var data map[string][]byte
	var items []corev1.KeyToPath
	mode := int32(0o644)
	switch {
	case v.Secret != nil:
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && ptr.Deref(v.Secret.Optional, false) {
			return os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return fmt.Errorf("reading Secret %s/%s: %w", ns, v.Secret.SecretName, err)
		}
		data, items = s.Data, v.Secret.Items
		if v.Secret.DefaultMode != nil {
			mode = *v.Secret.DefaultMode
		}
	case v.ConfigMap != nil:
		c, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && ptr.Deref(v.ConfigMap.Optional, false) {
			return os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return fmt.Errorf("reading ConfigMap %s/%s: %w", ns, v.ConfigMap.Name, err)
		}
		data = map[string][]byte{}
		for k, s := range c.Data {
			data[k] = []byte(s)
		}
		for k, b := range c.BinaryData {
			data[k] = b
		}
		items = v.ConfigMap.Items
		if v.ConfigMap.DefaultMode != nil {
			mode = *v.ConfigMap.DefaultMode
		}
	case v.EmptyDir != nil:
		return os.MkdirAll(dir, 0o777)
	default:
		return nil // other kinds are not supported; a mount of one fails
	}
	if len(items) > 0 {
		picked := map[string][]byte{}
		for _, it := range items {
			b, ok := data[it.Key]
			if !ok {
				return fmt.Errorf("item key %q missing", it.Key)
			}
			picked[it.Path] = b
		}
		data = picked
	}
	return writeFiles(dir, data, os.FileMode(mode))
}

func writeFiles(dir string, files map[string][]byte, mode os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, mode); err != nil {
			return err
		}
	}
	return nil
}

// mount is one volume's directory and its mount path; rw for a writable
// (emptyDir) one.
type mount struct {
	src, dst string
	rw       bool
}

// mountScript returns the shell that, inside the private mount namespace,
// overlays the deepest existing ancestor of each mount path, makes the
// missing directories and bind-mounts each volume, then execs "$@".
func mountScript(root string, mounts []mount) (string, error) {
	var overlays []string
	for _, m := range mounts {
		if !filepath.IsAbs(m.dst) {
			return "", fmt.Errorf("mount path %q is not absolute", m.dst)
		}
		anc, err := existingAncestor(m.dst)
		if err != nil {
			return "", err
		}
		overlays = append(overlays, anc)
	}
	sort.Strings(overlays)
	var outer []string
	for _, o := range overlays {
		covered := false
		for _, q := range outer {
			if o == q || q == "/" || strings.HasPrefix(o, q+"/") {
				covered = true
			}
		}
		if !covered {
			outer = append(outer, o)
		}
	}
	var b strings.Builder
	for i, o := range outer {
		if o == "/" {
			return "", errors.New("a mount path would need the root directory overlaid")
		}
		up := filepath.Join(root, "overlay", strconv.Itoa(i), "upper")
		work := filepath.Join(root, "overlay", strconv.Itoa(i), "work")
		if err := os.MkdirAll(up, 0o755); err != nil {
			return "", err
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "mount -t overlay overlay -o %s %s\n", quote("lowerdir="+o+",upperdir="+up+",workdir="+work), quote(o))
	}
	for _, m := range mounts {
		fmt.Fprintf(&b, "mkdir -p %s\nmount --bind %s %s\n", quote(m.dst), quote(m.src), quote(m.dst))
		if !m.rw {
			fmt.Fprintf(&b, "mount -o remount,bind,ro %s\n", quote(m.dst))
		}
	}
	b.WriteString("exec \"$@\"\n")
	return b.String(), nil
}

// existingAncestor is the deepest existing directory on the way to path,
// symbolic links resolved (/var/run is /run on most systems).
func existingAncestor(path string) (string, error) {
	p := filepath.Clean(path)
	for {
		if fi, err := os.Stat(p); err == nil {
			if !fi.IsDir() {
				return "", fmt.Errorf("mount path %s: %s is not a directory", path, p)
			}
			return filepath.EvalSymlinks(p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "/", nil
		}
		p = parent
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
