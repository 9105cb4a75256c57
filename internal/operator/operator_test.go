package operator

import (
	"context"
	"maps"

	"errors"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/controlplaneoperator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

var env *envtest.Environment

func TestMain(m *testing.M) {
	// Operator logs are noise in test output; HCPMIRROR_TEST_LOGS=1 shows them.
	if os.Getenv("HCPMIRROR_TEST_LOGS") == "" {
		ctrllog.SetLogger(logr.Discard())
	} else {
		ctrllog.SetLogger(zap.New(zap.UseDevMode(true)))
	}
	var err error
	env, err = envtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

const propagationTimeout = 20 * time.Second

// startOperator runs the operator until the returned stop function (or the
// test's end) stops it.
func startOperator(t testing.TB, opts Options) (stop func()) {
	t.Helper()
	if opts.Kinds == nil {
		opts.Kinds = &mirrorsets.All
	}
	return startOperatorAs(t, env.Config, opts)
}

func startOperatorAs(t testing.TB, cfg *rest.Config, opts Options) (stop func()) {
	t.Helper()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	mgr, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator stopped with error: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// startControlPlaneOperator runs `hcpmirror control-plane-operator` for one
// hosted control plane namespace in-process, as the cluster admin: the tests
// of what it owns that are not about its RBAC (internal/kubelet_test runs it
// from its Deployment, as its ServiceAccount).
func startControlPlaneOperator(t testing.TB, cpns, hcns string) {
	t.Helper()
	mgr, err := controlplaneoperator.New(env.Config, controlplaneoperator.Options{Namespace: cpns, NodePoolNamespace: hcns, MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control-plane-operator stopped with error: %v", err)
		}
	})
}

func createHostedCluster(t testing.TB, ns, name string) *hypershiftv1beta1.HostedCluster {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-pull-secret"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hc := &hypershiftv1beta1.HostedCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: hypershiftv1beta1.HostedClusterSpec{
			Release:    hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"},
			PullSecret: corev1.LocalObjectReference{Name: secret.Name},
		},
	}
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	return hc
}

// createClusterScoped creates a cluster-scoped object and deletes it at the
// end of the test: mirror sets are shared by every test of the package.
func createClusterScoped(t testing.TB, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.IgnoreNotFound(env.Client.Delete(context.Background(), obj)) })
}

func newIDMS(name string, entries ...configv1.ImageDigestMirrors) *configv1.ImageDigestMirrorSet {
	return &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: entries}}
}

// foreignDeployment is a HyperShift-built component we do not own: it takes
// the flag in the two-argument form and the variable.
func foreignDeployment(ns, name string, withCarriers bool) *appsv1.Deployment {
	ct := corev1.Container{Name: name, Image: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("ab", 32),
		Args: []string{"start", "--verbose"}}
	if withCarriers {
		ct.Args = append(ct.Args, "--registry-overrides", "old=value")
		ct.Env = []corev1.EnvVar{{Name: "OTHER", Value: "x"}, {Name: hostedcluster.EnvName, Value: "old=value"}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{ct}},
			},
		},
	}
}

// wantCarriers checks that every carrier in the control plane namespace of
// hc holds what the given mirror-set entries mean for the flag and env.
func wantCarriers(ns string, wantFlag map[string]string, wantEnv overrides.Env) func() error {
	return func() error {
		var list appsv1.DeploymentList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		found := map[string]bool{}
		for i := range list.Items {
			for _, cc := range hostedcluster.FindCarriers(&list.Items[i]) {
				found[list.Items[i].Name] = true
				if cc.Flag != nil {
					got, err := overrides.DecodeFlag(*cc.Flag)
					if err != nil {
						return fmt.Errorf("%s/%s: flag %q: %w", list.Items[i].Name, cc.Container, *cc.Flag, err)
					}
					if !equalMaps(got, wantFlag) {
						return fmt.Errorf("%s/%s: flag = %v, want %v", list.Items[i].Name, cc.Container, got, wantFlag)
					}
				}
				if cc.Env != nil {
					got := overrides.DecodeEnv(*cc.Env)
					if fmt.Sprint(got) != fmt.Sprint(wantEnv) {
						return fmt.Errorf("%s/%s: env = %v, want %v", list.Items[i].Name, cc.Container, got, wantEnv)
					}
				}
			}
		}
		for _, name := range []string{hostedcluster.ControlPlaneOperatorName, hostedcluster.IgnitionServerName} {
			if !found[name] {
				return fmt.Errorf("deployment %s missing or carries no overrides", name)
			}
		}
		return nil
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func condition(hc types.NamespacedName, condType string) (*metav1.Condition, error) {
	var got hypershiftv1beta1.HostedCluster
	if err := env.Client.Get(context.Background(), hc, &got); err != nil {
		return nil, err
	}
	c := meta.FindStatusCondition(got.Status.Conditions, condType)
	if c == nil {
		return nil, fmt.Errorf("no %s condition yet", condType)
	}
	if c.ObservedGeneration != got.Generation {
		return nil, fmt.Errorf("%s observedGeneration %d, generation %d", condType, c.ObservedGeneration, got.Generation)
	}
	return c, nil
}

func wantCondition(hc types.NamespacedName, condType string, status metav1.ConditionStatus, msgContains ...string) func() error {
	return func() error {
		c, err := condition(hc, condType)
		if err != nil {
			return err
		}
		if c.Status != status {
			return fmt.Errorf("%s = %s (%s: %s), want %s", condType, c.Status, c.Reason, c.Message, status)
		}
		for _, m := range msgContains {
			if !strings.Contains(c.Message, m) {
				return fmt.Errorf("%s message %q does not contain %q", condType, c.Message, m)
			}
		}
		return nil
	}
}

// TestPropagationLifecycle walks the user's story: create an IDMS and a
// HostedCluster, edit the IDMS, add an ICSP beside it, break the sets, fix
// them, delete them; every step reaches every deployment without a restart.
func TestPropagationLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	startOperator(t, Options{StaticOverrides: map[string]string{"registry.static.example.com": "static-mirror.example.com"}})

	idms := newIDMS(ns+"-release", configv1.ImageDigestMirrors{
		Source:  "quay.io/openshift-release-dev/ocp-v4.0-art-dev",
		Mirrors: []string{"registry.sample.lab:5000/openshift/release"},
	})
	createClusterScoped(t, idms)
	hc := createHostedCluster(t, ns, "lifecycle")
	key := client.ObjectKeyFromObject(hc)
	cpns := hostedcluster.ControlPlaneNamespace(hc)

	// HyperShift-built components already in the namespace: one carrying the
	// flag (two-argument form) and the variable, one carrying neither.
	envtest.Eventually(t, propagationTimeout, func() error {
		return env.Client.Get(ctx, types.NamespacedName{Name: cpns}, &corev1.Namespace{})
	})
	if err := env.Client.Create(ctx, foreignDeployment(cpns, "hosted-cluster-config-operator", true)); err != nil {
		t.Fatal(err)
	}
	plain := foreignDeployment(cpns, "kube-apiserver", false)
	if err := env.Client.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}

	static := map[string]string{"registry.static.example.com": "static-mirror.example.com"}
	withStatic := func(m map[string]string) map[string]string {
		out := maps.Clone(m)
		maps.Copy(out, static)
		return out
	}

	t.Run("create", func(t *testing.T) {
		envtest.Eventually(t, propagationTimeout, wantCarriers(cpns,
			withStatic(map[string]string{"quay.io/openshift-release-dev/ocp-v4.0-art-dev": "registry.sample.lab:5000/openshift/release"}),
			overrides.Env{"quay.io/openshift-release-dev/ocp-v4.0-art-dev": {"registry.sample.lab:5000/openshift/release"}}))
		envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ValidMirrorSets, metav1.ConditionTrue))
		envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.RegistryOverridesPropagated, metav1.ConditionTrue, "3 deployments"))
		var cm corev1.ConfigMap
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: hostedcluster.RegistriesConfigMap}, &cm); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data[hostedcluster.RegistriesConfKey], `location = "registry.sample.lab:5000/openshift/release"`) {
			t.Errorf("registries.conf:\n%s", cm.Data[hostedcluster.RegistriesConfKey])
		}
		var hcp hypershiftv1beta1.HostedControlPlane
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: hc.Name}, &hcp); err != nil {
			t.Fatal(err)
		}
		if hcp.Spec.ReleaseImage != hc.Spec.Release.Image {
			t.Errorf("HostedControlPlane releaseImage = %q", hcp.Spec.ReleaseImage)
		}
	})

	t.Run("foreign deployments keep their shape", func(t *testing.T) {
		var d appsv1.Deployment
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: "hosted-cluster-config-operator"}, &d); err != nil {
			t.Fatal(err)
		}
		args := d.Spec.Template.Spec.Containers[0].Args
		if len(args) != 4 || args[0] != "start" || args[1] != "--verbose" || args[2] != "--registry-overrides" {
			t.Errorf("args = %q: the two-argument form and the other arguments must stay", args)
		}
		if d.Spec.Template.Spec.Containers[0].Env[0].Value != "x" {
			t.Errorf("unrelated env changed: %v", d.Spec.Template.Spec.Containers[0].Env)
		}
		var k appsv1.Deployment
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(plain), &k); err != nil {
			t.Fatal(err)
		}
		if k.Generation != 1 || len(k.Spec.Template.Spec.Containers[0].Args) != 2 {
			t.Errorf("a deployment without carriers was modified: generation %d, args %q", k.Generation, k.Spec.Template.Spec.Containers[0].Args)
		}
	})

	t.Run("edit", func(t *testing.T) {
		var cur configv1.ImageDigestMirrorSet
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
			t.Fatal(err)
		}
		cur.Spec.ImageDigestMirrors[0].Mirrors = []string{"new-mirror.sample.lab/release", "registry.sample.lab:5000/openshift/release"}
		if err := env.Client.Update(ctx, &cur); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, propagationTimeout, wantCarriers(cpns,
			withStatic(map[string]string{"quay.io/openshift-release-dev/ocp-v4.0-art-dev": "new-mirror.sample.lab/release"}),
			overrides.Env{"quay.io/openshift-release-dev/ocp-v4.0-art-dev": {"new-mirror.sample.lab/release", "registry.sample.lab:5000/openshift/release"}}))
		envtest.Eventually(t, propagationTimeout, func() error {
			var list eventsv1.EventList
			if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Reason == "RegistryOverridesChanged" && e.Regarding.Name == hc.Name {
					return nil
				}
			}
			return errors.New("no RegistryOverridesChanged event")
		})
	})

	parent := t
	t.Run("icsp beside idms", func(t *testing.T) {
		icsp := &operatorv1alpha1.ImageContentSourcePolicy{
			ObjectMeta: metav1.ObjectMeta{Name: ns + "-generic"},
			Spec: operatorv1alpha1.ImageContentSourcePolicySpec{RepositoryDigestMirrors: []operatorv1alpha1.RepositoryDigestMirrors{
				{Source: "quay.io/karmab", Mirrors: []string{"registry.sample.lab:5000/karmab"}},
			}},
		}
		createClusterScoped(parent, icsp) // the next steps still need it
		envtest.Eventually(t, propagationTimeout, wantCarriers(cpns,
			withStatic(map[string]string{
				"quay.io/openshift-release-dev/ocp-v4.0-art-dev": "new-mirror.sample.lab/release",
				"quay.io/karmab": "registry.sample.lab:5000/karmab",
			}),
			overrides.Env{
				"quay.io/karmab": {"registry.sample.lab:5000/karmab"},
				"quay.io/openshift-release-dev/ocp-v4.0-art-dev": {"new-mirror.sample.lab/release", "registry.sample.lab:5000/openshift/release"},
			}))
	})

	t.Run("invalid sets keep the last good overrides", func(t *testing.T) {
		// ICSP has no schema validation, so the API server admits what the
		// machine-config-operator would refuse to render.
		bad := &operatorv1alpha1.ImageContentSourcePolicy{
			ObjectMeta: metav1.ObjectMeta{Name: ns + "-bad"},
			Spec: operatorv1alpha1.ImageContentSourcePolicySpec{RepositoryDigestMirrors: []operatorv1alpha1.RepositoryDigestMirrors{
				{Source: "quay.io/Bad/Path", Mirrors: []string{"registry.sample.lab:5000/bad"}},
			}},
		}
		createClusterScoped(t, bad)
		envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ValidMirrorSets, metav1.ConditionFalse,
			`ImageContentSourcePolicy "`+bad.Name+`"`, "spec.repositoryDigestMirrors[0].source"))
		envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.RegistryOverridesPropagated, metav1.ConditionFalse))
		// The carriers still hold the last good state.
		if err := wantCarriers(cpns,
			withStatic(map[string]string{
				"quay.io/openshift-release-dev/ocp-v4.0-art-dev": "new-mirror.sample.lab/release",
				"quay.io/karmab": "registry.sample.lab:5000/karmab",
			}), nil)(); err != nil && !strings.Contains(err.Error(), "env =") {
			t.Fatal(err)
		}
		if err := env.Client.Delete(ctx, bad); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ValidMirrorSets, metav1.ConditionTrue))
	})

	t.Run("delete", func(t *testing.T) {
		var list operatorv1alpha1.ImageContentSourcePolicyList
		if err := env.Client.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		for i := range list.Items {
			if strings.HasPrefix(list.Items[i].Name, ns) {
				_ = env.Client.Delete(ctx, &list.Items[i])
			}
		}
		if err := env.Client.Delete(ctx, idms); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, propagationTimeout, wantCarriers(cpns, withStatic(map[string]string{}), overrides.Env{}))
	})
}

// TestRestartMidChange stops the operator, changes the sets while it is
// down, and starts a new one: it converges from the API server's state alone.
func TestRestartMidChange(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	stop := startOperator(t, Options{})
	idms := newIDMS(ns+"-restart", configv1.ImageDigestMirrors{Source: "quay.io/restart", Mirrors: []string{"m1.sample.lab/restart"}})
	createClusterScoped(t, idms)
	hc := createHostedCluster(t, ns, "restart")
	cpns := hostedcluster.ControlPlaneNamespace(hc)
	envtest.Eventually(t, propagationTimeout, wantCarriers(cpns,
		map[string]string{"quay.io/restart": "m1.sample.lab/restart"}, overrides.Env{"quay.io/restart": {"m1.sample.lab/restart"}}))
	stop()

	var cur configv1.ImageDigestMirrorSet
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.ImageDigestMirrors[0].Mirrors = []string{"m2.sample.lab/restart"}
	if err := env.Client.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	startOperator(t, Options{})
	envtest.Eventually(t, propagationTimeout, wantCarriers(cpns,
		map[string]string{"quay.io/restart": "m2.sample.lab/restart"}, overrides.Env{"quay.io/restart": {"m2.sample.lab/restart"}}))
}

// TestRenderedRBACIsEnough installs the rendered service account and RBAC and
// runs the operator as that service account, with leader election: if the
// least-privilege rules lacked anything, propagation would not happen.
func TestRenderedRBACIsEnough(t *testing.T) {
	ctx := context.Background()
	opNS := env.Namespace(t)
	for _, obj := range Objects(InstallOptions{Namespace: opNS, Image: "hcpmirror:test"}) {
		switch obj.(type) {
		case *corev1.Namespace, *appsv1.Deployment:
			continue // the namespace exists; nothing runs pods here
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating rendered %T: %v", obj, err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + opNS + ":" + ServiceAccountName,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + opNS, "system:authenticated"},
	}
	// Kinds unset: discovery runs as the service account too.
	startOperatorAs(t, cfg, Options{LeaderElection: true, LeaderElectionNamespace: opNS})

	ns := env.Namespace(t)
	createClusterScoped(t, newIDMS(ns+"-rbac", configv1.ImageDigestMirrors{Source: "quay.io/rbac", Mirrors: []string{"m.sample.lab/rbac"}}))
	hc := createHostedCluster(t, ns, "rbac")
	envtest.Eventually(t, propagationTimeout, wantCarriers(hostedcluster.ControlPlaneNamespace(hc),
		map[string]string{"quay.io/rbac": "m.sample.lab/rbac"}, overrides.Env{"quay.io/rbac": {"m.sample.lab/rbac"}}))
	envtest.Eventually(t, propagationTimeout, wantCondition(client.ObjectKeyFromObject(hc), hypershiftv1beta1.RegistryOverridesPropagated, metav1.ConditionTrue))
}

// TestDataPlaneImageContentSources: the nodes' mirror configuration (written
// by the control-plane-operator, reported on the HostedCluster by the
// operator) comes
// from the HostedCluster's imageContentSources only, in order, validated as
// the guest's machine-config-operator would.
func TestDataPlaneImageContentSources(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	startOperator(t, Options{})
	hc := createHostedCluster(t, ns, "dataplane")
	key := client.ObjectKeyFromObject(hc)
	cpns := hostedcluster.ControlPlaneNamespace(hc)
	// The nodes' ConfigMap is the control-plane-operator's; the operator
	// mirrors its ValidImageContentSources onto the HostedCluster.
	envtest.Eventually(t, propagationTimeout, func() error {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: hc.Name}, &hypershiftv1beta1.HostedControlPlane{})
	})
	startControlPlaneOperator(t, cpns, ns)
	cmKey := types.NamespacedName{Namespace: cpns, Name: dataplane.DataPlaneConfigMap}

	// The operator patches the status concurrently: retry on conflict, as
	// any client editing a reconciled object must.
	edit := func(f func(*hypershiftv1beta1.HostedCluster)) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur hypershiftv1beta1.HostedCluster
			if err := env.Client.Get(ctx, key, &cur); err != nil {
				return err
			}
			f(&cur)
			return env.Client.Update(ctx, &cur)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	configIs := func(want ...string) func() error {
		return func() error {
			var cm corev1.ConfigMap
			if err := env.Client.Get(ctx, cmKey, &cm); err != nil {
				return err
			}
			got := cm.Data[dataplane.DataPlaneConfigKey]
			if cm.Labels[dataplane.CoreIgnitionConfigLabel] != "true" {
				return fmt.Errorf("label missing: %v", cm.Labels)
			}
			for _, w := range want {
				if !strings.Contains(got, w) {
					return fmt.Errorf("config lacks %q:\n%s", w, got)
				}
			}
			return nil
		}
	}

	edit(func(hc *hypershiftv1beta1.HostedCluster) {
		hc.Spec.ImageContentSources = []hypershiftv1beta1.ImageContentSource{
			{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"guest-mirror.sample.lab/release"}},
			{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"guest-mirror.sample.lab/release-images"}},
		}
	})
	envtest.Eventually(t, propagationTimeout, configIs("kind: ImageDigestMirrorSet", "name: cluster",
		"machineconfiguration.openshift.io/role: worker",
		"- guest-mirror.sample.lab/release\n    source: quay.io/openshift-release-dev/ocp-v4.0-art-dev\n  - mirrors:\n    - guest-mirror.sample.lab/release-images"))
	envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ValidImageContentSources, metav1.ConditionTrue))

	edit(func(hc *hypershiftv1beta1.HostedCluster) {
		hc.Annotations = map[string]string{dataplane.MirrorTagsAnnotation: "true"}
	})
	envtest.Eventually(t, propagationTimeout, configIs("kind: ImageDigestMirrorSet", "---\n", "kind: ImageTagMirrorSet"))

	edit(func(hc *hypershiftv1beta1.HostedCluster) {
		hc.Spec.ImageContentSources = append(hc.Spec.ImageContentSources, hypershiftv1beta1.ImageContentSource{Source: "quay.io/Bad", Mirrors: []string{"m.sample.lab"}})
	})
	envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ValidImageContentSources, metav1.ConditionFalse, "spec.imageContentSources[2].source"))
	if err := configIs("kind: ImageTagMirrorSet")(); err != nil {
		t.Fatalf("an invalid list must leave the nodes' configuration as it was: %v", err)
	}

	edit(func(hc *hypershiftv1beta1.HostedCluster) { hc.Spec.ImageContentSources = nil })
	envtest.Eventually(t, propagationTimeout, func() error {
		err := env.Client.Get(ctx, cmKey, &corev1.ConfigMap{})
		if err == nil {
			return errors.New("ConfigMap still exists for an empty list")
		}
		return client.IgnoreNotFound(err)
	})
}
