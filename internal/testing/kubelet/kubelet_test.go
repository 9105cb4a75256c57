package kubelet_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
)

var env *envtest.Environment

func TestMain(m *testing.M) {
	// As a container of TestProbes: an HTTP server on the --listen
	// address (rewritten to its host port), ready at /ready only.
	if addr, ok := strings.CutPrefix(lastArg(), "--listen="); ok && os.Getenv("KUBELET_TEST_SERVE") == "1" {
		mux := http.NewServeMux()
		mux.HandleFunc("/ready", func(http.ResponseWriter, *http.Request) {})
		mux.HandleFunc("/not-ready", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, mux))
		os.Exit(1)
	}
	var err error
	if env, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// TestRun: env with valueFrom, Secret and ConfigMap volumes at absolute
// paths, the token and the in-cluster address reach the process, ports are
// rewritten, and the paths exist for the process only.
func TestRun(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s"}, Data: map[string][]byte{"tls.crt": []byte("CERT"), "k": []byte("secret-value")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c"}, Data: map[string]string{"registries.conf": "CONF", "k": "cm-value"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	const secretDir, cmDir = "/var/run/secrets/standin-test/cert", "/var/run/configmaps/standin-test"
	script := `cat ` + secretDir + `/tls.crt; echo; cat ` + cmDir + `/registries.conf; echo; echo "ns=$POD_NAMESPACE s=$FROM_SECRET c=$FROM_CM host=$KUBERNETES_SERVICE_HOST"; ` +
		`test -s ` + kubelet.ServiceAccountMountPath + `/token && cat ` + kubelet.ServiceAccountMountPath + `/namespace; echo; echo "$1"`
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		ServiceAccountName: "app",
		Containers: []corev1.Container{{Name: "app", Command: []string{"sh", "-c", script, "sh"}, Args: []string{"--listen=:9090"},
			Ports: []corev1.ContainerPort{{ContainerPort: 9090}},
			Env: []corev1.EnvVar{
				{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}},
				{Name: "FROM_CM", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "k"}}},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "cert", MountPath: secretDir}, {Name: "conf", MountPath: cmDir}},
		}},
		Volumes: []corev1.Volume{
			{Name: "cert", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
		},
	}}}}
	pod := kubelet.Run(t, kubelet.Options{Config: env.Config, Binaries: map[string]string{"sh": "/bin/sh"}}, dep)
	envtest.Eventually(t, 10*time.Second, func() error {
		if done, err := pod.Exited(); !done {
			return fmt.Errorf("still running")
		} else if err != nil {
			return fmt.Errorf("exited: %v\n%s", err, pod.Logs())
		}
		return nil
	})
	logs := pod.Logs()
	want := []string{"CERT\n", "CONF\n", "ns=" + ns + " s=secret-value c=cm-value host=127.0.0.1", ns + "\n", fmt.Sprintf("--listen=127.0.0.1:%d", pod.Port(9090))}
	for _, w := range want {
		if !strings.Contains(logs, w) {
			t.Errorf("output lacks %q:\n%s", w, logs)
		}
	}
	for _, p := range []string{secretDir, cmDir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists outside the process's mount namespace (%v)", p, err)
		}
	}
}

func lastArg() string { return os.Args[len(os.Args)-1] }

// TestProbes runs the probes of a container (this test binary serving
// HTTP) through the stand-in: an HTTP GET by port name, a TCP connect,
// a failing HTTP GET, a port that is not declared.
func TestProbes(t *testing.T) {
	ns := env.Namespace(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	probe := func(h corev1.ProbeHandler) *corev1.Probe { return &corev1.Probe{ProbeHandler: h, TimeoutSeconds: 1} }
	dep := func(ready, live *corev1.Probe) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{Name: "web", Command: []string{"self"}, Args: []string{"--listen=:8080"},
				Env:            []corev1.EnvVar{{Name: "KUBELET_TEST_SERVE", Value: "1"}},
				Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				ReadinessProbe: ready, LivenessProbe: live}},
		}}}}
	}
	opts := kubelet.Options{Config: env.Config, Binaries: map[string]string{"self": self}}
	pod := kubelet.Run(t, opts, dep(
		probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}),
		probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}})))
	envtest.Eventually(t, 10*time.Second, func() error { return pod.Ready(context.Background()) })
	if err := pod.Live(context.Background()); err != nil {
		t.Errorf("TCP liveness probe: %v", err)
	}
	pod.Stop()
	bad := kubelet.Run(t, opts, dep(
		probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/not-ready", Port: intstr.FromInt32(8080)}}),
		probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9999)}})))
	envtest.Eventually(t, 10*time.Second, func() error {
		err := bad.Ready(context.Background())
		if err == nil || !strings.Contains(err.Error(), "503") {
			return fmt.Errorf("readiness = %v, want a 503 failure", err)
		}
		return nil
	})
	if err := bad.Live(context.Background()); err == nil || !strings.Contains(err.Error(), "not a declared containerPort") {
		t.Errorf("liveness on an undeclared port = %v", err)
	}
}
