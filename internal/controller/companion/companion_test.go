package companion_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/cli"
	"github.com/hcpmirror/hcpmirror/internal/controller/companion"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

var env *envtest.Environment

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	var err error
	if env, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// hyperShift is the stand-in HyperShift's field manager.
var hyperShift = client.FieldOwner("hypershift-operator")

func deployment(ns, name string, env []corev1.EnvVar, args []string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "quay.io/hypershift/hypershift@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Env: env, Args: args}}},
			},
		},
	}
}

// installHyperShift writes the stand-in: HyperShift's operator Deployment.
func installHyperShift(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: companion.HyperShiftNamespace}}
	if err := env.Client.Create(ctx, ns, hyperShift); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, deployment(companion.HyperShiftNamespace, companion.HyperShiftDeployment, nil, nil), hyperShift); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func start(t *testing.T, opts operator.Options) func() {
	t.Helper()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	opts.Kinds = &mirrorsets.All
	mgr, err := operator.New(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestRefusesBesideHyperShift: without --companion, the operator does not
// start where HyperShift's operator runs, names the flag, and writes nothing.
func TestRefusesBesideHyperShift(t *testing.T) {
	ctx := context.Background()
	installHyperShift(t)
	ns := env.Namespace(t)
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"}}
	hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	before := inventory(t)
	_, err := operator.New(env.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", Kinds: &mirrorsets.All})
	if err == nil || !strings.Contains(err.Error(), "--companion") || !strings.Contains(err.Error(), "hypershift/operator") {
		t.Fatalf("error %v, want a refusal naming --companion and the Deployment found", err)
	}
	time.Sleep(time.Second)
	if d := diffInventory(before, inventory(t)); d != "" {
		t.Errorf("a refused start wrote: %s", d)
	}
}

// inventory is every object of the kinds either operator could write,
// cluster-wide, by resourceVersion.
func inventory(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	add := func(kind string, l client.ObjectList) {
		if err := env.Client.List(ctx, l); err != nil {
			t.Fatal(err)
		}
		items, _ := meta.ExtractList(l)
		for _, o := range items {
			mo := o.(client.Object)
			out[kind+" "+mo.GetNamespace()+"/"+mo.GetName()] = mo.GetResourceVersion()
		}
	}
	add("Namespace", &corev1.NamespaceList{})
	add("Deployment", &appsv1.DeploymentList{})
	add("ConfigMap", &corev1.ConfigMapList{})
	add("Secret", &corev1.SecretList{})
	add("Service", &corev1.ServiceList{})
	add("HostedControlPlane", &hypershiftv1beta1.HostedControlPlaneList{})
	add("HostedCluster", &hypershiftv1beta1.HostedClusterList{})
	add("ImageDigestMirrorSet", &configv1.ImageDigestMirrorSetList{})
	return out
}

func diffInventory(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s %s -> %q", k, v, b[k]))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+" created")
		}
	}
	return strings.Join(d, "; ")
}

func idms(name string, entries ...configv1.ImageDigestMirrors) *configv1.ImageDigestMirrorSet {
	return &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: entries}}
}

func derived(t *testing.T) *configv1.ImageDigestMirrorSet {
	var s configv1.ImageDigestMirrorSet
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: companion.DerivedSetName}, &s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

// hyperShiftBytes is everything the stand-in HyperShift owns, as bytes:
// the objects of the control plane namespace and the namespace itself, its
// operator Deployment, and the HostedCluster without the companion's own
// condition (and without managedFields/resourceVersion, which our status
// writes move).
func hyperShiftBytes(t *testing.T, hcpNS string, hc client.ObjectKey) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	enc := func(k string, o any) {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	var deps appsv1.DeploymentList
	if err := env.Client.List(ctx, &deps, client.InNamespace(hcpNS)); err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		enc("Deployment "+d.Name, d)
	}
	var cms corev1.ConfigMapList
	if err := env.Client.List(ctx, &cms, client.InNamespace(hcpNS)); err != nil {
		t.Fatal(err)
	}
	for _, c := range cms.Items {
		enc("ConfigMap "+c.Name, c)
	}
	var hcps hypershiftv1beta1.HostedControlPlaneList
	if err := env.Client.List(ctx, &hcps, client.InNamespace(hcpNS)); err != nil {
		t.Fatal(err)
	}
	for _, h := range hcps.Items {
		enc("HostedControlPlane "+h.Name, h)
	}
	var ns corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: hcpNS}, &ns); err != nil {
		t.Fatal(err)
	}
	enc("Namespace", ns)
	var op appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: companion.HyperShiftNamespace, Name: companion.HyperShiftDeployment}, &op); err != nil {
		t.Fatal(err)
	}
	enc("operator", op)
	var h hypershiftv1beta1.HostedCluster
	if err := env.Client.Get(ctx, hc, &h); err != nil {
		t.Fatal(err)
	}
	meta.RemoveStatusCondition(&h.Status.Conditions, hypershiftv1beta1.InjectedOverridesMatch)
	h.ManagedFields, h.ResourceVersion = nil, ""
	enc("HostedCluster", h)
	return out
}

func condition(t *testing.T, key client.ObjectKey) *metav1.Condition {
	var h hypershiftv1beta1.HostedCluster
	if err := env.Client.Get(context.Background(), key, &h); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(h.Status.Conditions, hypershiftv1beta1.InjectedOverridesMatch)
}

// TestCompanion runs companion mode beside a stand-in HyperShift: the
// derived IDMS for a root-only set appears, follows an edit and disappears
// when an explicit entry makes it unnecessary; the condition reports what
// HyperShift injected; and across edits and restarts not one byte of what
// HyperShift owns changes.
func TestCompanion(t *testing.T) {
	ctx := context.Background()
	installHyperShift(t)
	ns := env.Namespace(t)
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"}}
	hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc, hyperShift); err != nil {
		t.Fatal(err)
	}
	// HyperShift's own condition, which must survive untouched.
	hc.Status.Conditions = []metav1.Condition{{Type: "Available", Status: metav1.ConditionTrue, Reason: "AsExpected", Message: "HyperShift says so", LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, hc, client.FieldOwner("hypershift-operator")); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(hc)
	hcpNS := hostedcluster.ControlPlaneNamespace(hc)
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hcpNS}}, hyperShift); err != nil {
		t.Fatal(err)
	}
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: hcpNS, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: hc.Spec.Release.Image, PullSecret: hc.Spec.PullSecret}}
	if err := env.Client.Create(ctx, hcp, hyperShift); err != nil {
		t.Fatal(err)
	}
	// HyperShift's Deployments, with what it injected: a stale value.
	kas := deployment(hcpNS, "kube-apiserver", []corev1.EnvVar{{Name: hostedcluster.EnvName, Value: "="}}, nil)
	if err := env.Client.Create(ctx, kas, hyperShift); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hcpNS, Name: "hypershift-config"}, Data: map[string]string{"k": "v"}}, hyperShift); err != nil {
		t.Fatal(err)
	}

	// A root-only set: quay.io covers the release repositories.
	root := idms("root", configv1.ImageDigestMirrors{Source: "quay.io", Mirrors: []string{"mirror.example.com/quay"}, MirrorSourcePolicy: configv1.NeverContactSource})
	if err := env.Client.Create(ctx, root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, root) })

	stop := start(t, operator.Options{Companion: true})
	envtest.Eventually(t, 20*time.Second, func() error {
		d := derived(t)
		if d == nil {
			return fmt.Errorf("no derived ImageDigestMirrorSet")
		}
		got := fmt.Sprint(d.Spec.ImageDigestMirrors)
		want := fmt.Sprint([]configv1.ImageDigestMirrors{
			{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"mirror.example.com/quay/openshift-release-dev/ocp-release"}, MirrorSourcePolicy: configv1.NeverContactSource},
			{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"mirror.example.com/quay/openshift-release-dev/ocp-v4.0-art-dev"}, MirrorSourcePolicy: configv1.NeverContactSource},
		})
		if got != want || d.Labels[companion.DerivedLabel] != "true" {
			return fmt.Errorf("derived set %s labels %v, want %s", got, d.Labels, want)
		}
		return nil
	})
	envtest.Eventually(t, 20*time.Second, func() error {
		c := condition(t, key)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "kube-apiserver") {
			return fmt.Errorf("condition %+v, want False naming kube-apiserver", c)
		}
		return nil
	})

	// HyperShift (the stand-in) injects what the sets mean: True.
	want := carriers(t)
	var cur appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(kas), &cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template.Spec.Containers[0].Env[0].Value = want
	if err := env.Client.Update(ctx, &cur, hyperShift); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 20*time.Second, func() error {
		if c := condition(t, key); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("condition %+v, want True", c)
		}
		return nil
	})
	var sout, serr bytes.Buffer
	if code := cli.Execute(ctx, []string{"status", "--companion", "--kubeconfig", env.Kubeconfig(t), key.String()}, strings.NewReader(""), &sout, &serr); code != 0 ||
		!strings.Contains(sout.String(), "companion InjectedOverridesMatch: True") {
		t.Errorf("status --companion: exit %d\n%s%s", code, sout.String(), serr.String())
	}
	before := hyperShiftBytes(t, hcpNS, key)

	// Edit the mirror set: the derived set follows, HyperShift's objects do not move.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(root), root); err != nil {
		t.Fatal(err)
	}
	root.Spec.ImageDigestMirrors[0].Mirrors = []string{"mirror2.example.com/quay"}
	if err := env.Client.Update(ctx, root); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 20*time.Second, func() error {
		if d := derived(t); d == nil || !strings.HasPrefix(d.Spec.ImageDigestMirrors[0].Mirrors[0], "mirror2.example.com/") {
			return fmt.Errorf("derived set did not follow the edit: %+v", d)
		}
		if c := condition(t, key); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("condition %+v, want False after the edit (HyperShift has not re-injected)", c)
		}
		return nil
	})
	// Restart.
	stop()
	start(t, operator.Options{Companion: true})
	time.Sleep(2 * time.Second)
	if d := diffBytes(before, hyperShiftBytes(t, hcpNS, key)); d != "" {
		t.Errorf("companion mode changed what HyperShift owns: %s", d)
	}

	// An explicit repository entry for each release repository: nothing to derive.
	explicit := idms("explicit",
		configv1.ImageDigestMirrors{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"mirror2.example.com/quay/openshift-release-dev/ocp-release"}},
		configv1.ImageDigestMirrors{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"mirror2.example.com/quay/openshift-release-dev/ocp-v4.0-art-dev"}})
	if err := env.Client.Create(ctx, explicit); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, explicit) })
	envtest.Eventually(t, 20*time.Second, func() error {
		if d := derived(t); d != nil {
			return fmt.Errorf("derived set still there: %+v", d.Spec)
		}
		return nil
	})
	if d := diffBytes(before, hyperShiftBytes(t, hcpNS, key)); d != "" {
		t.Errorf("companion mode changed what HyperShift owns: %s", d)
	}
}

func diffBytes(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s:\n before %s\n after  %s", k, v, b[k]))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+" appeared")
		}
	}
	return strings.Join(d, "\n")
}

// carriers is the OPENSHIFT_IMG_OVERRIDES value the current sets (the
// derived one included, as HyperShift reads them) mean.
func carriers(t *testing.T) string {
	t.Helper()
	snap, err := (&mirrorsets.Reader{Client: env.Client, Kinds: mirrorsets.All}).Read(context.Background())
	if err != nil || snap.Invalid != nil {
		t.Fatal(err, snap.Invalid)
	}
	c, err := hostedcluster.NewCarriers(snap.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Env
}

// TestCompanionRBAC runs companion mode as the service account `render
// --companion` creates, with only that RBAC: the derived set and the
// condition get written.
func TestCompanionRBAC(t *testing.T) {
	ctx := context.Background()
	installHyperShift(t)
	opNS := env.Namespace(t)
	objs := operator.Objects(operator.InstallOptions{Namespace: opNS, Image: "hcpmirror:test", Companion: true})
	for _, obj := range objs {
		switch o := obj.(type) {
		case *corev1.Namespace:
			continue
		case *appsv1.Deployment:
			if !slices.Contains(o.Spec.Template.Spec.Containers[0].Args, "--companion") {
				t.Errorf("rendered Deployment args %v lack --companion", o.Spec.Template.Spec.Containers[0].Args)
			}
			continue
		case *rbacv1.ClusterRole:
			for _, r := range o.Rules {
				for _, res := range r.Resources {
					if (res == "namespaces" || res == "hostedcontrolplanes" || res == "configmaps" || res == "deployments") && slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "get" && v != "list" && v != "watch" }) {
						t.Errorf("companion RBAC may write %s: %v", res, r.Verbs)
					}
				}
			}
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating rendered %T: %v", obj, err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + opNS + ":" + operator.ServiceAccountName,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + opNS, "system:authenticated"},
	}
	mgr, err := operator.New(cfg, operator.Options{Companion: true, MetricsAddr: "0", ProbeAddr: "0", LeaderElection: true, LeaderElectionNamespace: opNS})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })

	ns := env.Namespace(t)
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"}}
	hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hostedcluster.ControlPlaneNamespace(hc)}}, hyperShift); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, deployment(hostedcluster.ControlPlaneNamespace(hc), "kube-apiserver", []corev1.EnvVar{{Name: hostedcluster.EnvName, Value: "="}}, nil), hyperShift); err != nil {
		t.Fatal(err)
	}
	root := idms("root-rbac", configv1.ImageDigestMirrors{Source: "quay.io/openshift-release-dev", Mirrors: []string{"mirror.example.com/ocp"}})
	if err := env.Client.Create(ctx, root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, root) })
	envtest.Eventually(t, 30*time.Second, func() error {
		if derived(t) == nil {
			return fmt.Errorf("no derived set")
		}
		if c := condition(t, client.ObjectKeyFromObject(hc)); c == nil {
			return fmt.Errorf("no InjectedOverridesMatch condition")
		}
		return nil
	})
	if err := env.Client.Delete(ctx, root); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 30*time.Second, func() error {
		if derived(t) != nil {
			return fmt.Errorf("derived set still there")
		}
		return nil
	})
}
