package hostedcluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
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

// faultyReader fails every list while armed: the mirror sets cannot be read.
type faultyReader struct {
	client.Reader
	armed *atomic.Bool
}

func (r faultyReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if r.armed.Load() {
		return errors.New("injected: the cache is not reachable")
	}
	return r.Reader.List(ctx, list, opts...)
}

// conflictingClient answers every Deployment patch with a conflict while
// armed, as when another writer got there first, and counts the writes it
// lets through.
type conflictingClient struct {
	client.Client
	armed  *atomic.Bool
	hits   *atomic.Int64
	writes *atomic.Int64
}

func (c conflictingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if _, ok := obj.(*appsv1.Deployment); ok && c.armed != nil && c.armed.Load() {
		c.hits.Add(1)
		return apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, obj.GetName(), errors.New("injected: the object has been modified"))
	}
	c.writes.Add(1)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c conflictingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.writes.Add(1)
	return c.Client.Create(ctx, obj, opts...)
}

func (c conflictingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.writes.Add(1)
	return c.Client.Update(ctx, obj, opts...)
}

func (c conflictingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.writes.Add(1)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c conflictingClient) Status() client.SubResourceWriter {
	return countingStatus{c.Client.Status(), c.writes}
}

type countingStatus struct {
	client.SubResourceWriter
	writes *atomic.Int64
}

func (s countingStatus) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	s.writes.Add(1)
	return s.SubResourceWriter.Apply(ctx, obj, opts...)
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.writes.Add(1)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.writes.Add(1)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// reconciles is how many reconciles of the named controller finished, from
// controller-runtime's own metric.
func reconciles(t *testing.T, controller string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

type staticReleases struct{}

func (staticReleases) Lookup(context.Context, *mirrorset.Config, string, []byte) (*hostedcluster.Release, error) {
	return &hostedcluster.Release{Image: "quay.io/openshift-release-dev/ocp-release@sha256:" + fmt.Sprintf("%064d", 1), Version: "4.16.3",
		ServedBy: "m.sample.lab/release", Components: map[string]string{}}, nil
}

var allConditions = []string{
	hypershiftv1beta1.ValidMirrorSets, hypershiftv1beta1.ReleaseImageResolved,
	hypershiftv1beta1.RegistryOverridesPropagated, hypershiftv1beta1.ValidImageContentSources,
}

// TestConditionsNeverVanish: after a mirror-set read error and during write
// conflicts every condition stays on the HostedCluster; the one a conflict
// cannot decide keeps its value.
func TestConditionsNeverVanish(t *testing.T) {
	ctx := context.Background()
	var setsDown, conflicts atomic.Bool
	var hits, writes atomic.Int64

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &hostedcluster.Reconciler{
		Client:    conflictingClient{Client: mgr.GetClient(), armed: &conflicts, hits: &hits, writes: &writes},
		APIReader: mgr.GetAPIReader(),
		Sets:      &mirrorsets.Reader{Client: faultyReader{Reader: mgr.GetClient(), armed: &setsDown}, Kinds: mirrorsets.All},
		Releases:  staticReleases{},
		Image:     "quay.io/hcpmirror/hcpmirror:test",
	}
	if err := r.SetupWithManager(mgr, mirrorsets.All, 2); err != nil {
		t.Fatal(err)
	}
	if err := (&dataplane.Reconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	ns := env.Namespace(t)
	idms := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: ns + "-vanish"},
		Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: []configv1.ImageDigestMirrors{{Source: "quay.io/vanish", Mirrors: []string{"m1.sample.lab/vanish"}}}}}
	if err := env.Client.Create(ctx, idms); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), idms) })
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vanish"},
		Spec: hypershiftv1beta1.HostedClusterSpec{
			Release:             hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"},
			PullSecret:          corev1.LocalObjectReference{Name: secret.Name},
			ImageContentSources: []hypershiftv1beta1.ImageContentSource{{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"guest.sample.lab/release"}}},
		}}
	for _, obj := range []client.Object{secret, hc} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	key := client.ObjectKeyFromObject(hc)

	// conditionsAre checks every condition is there; want gives the
	// statuses (and reasons, when set) of some.
	type st struct {
		status metav1.ConditionStatus
		reason string
	}
	conditionsAre := func(want map[string]st) func() error {
		return func() error {
			var got hypershiftv1beta1.HostedCluster
			if err := env.Client.Get(ctx, key, &got); err != nil {
				return err
			}
			for _, ct := range allConditions {
				c := meta.FindStatusCondition(got.Status.Conditions, ct)
				if c == nil {
					return fmt.Errorf("condition %s is missing: %+v", ct, got.Status.Conditions)
				}
				if w, ok := want[ct]; ok && (c.Status != w.status || (w.reason != "" && c.Reason != w.reason)) {
					return fmt.Errorf("%s = %s/%s (%s), want %s/%s", ct, c.Status, c.Reason, c.Message, w.status, w.reason)
				}
			}
			return nil
		}
	}
	allTrue := map[string]st{}
	for _, ct := range allConditions {
		allTrue[ct] = st{status: metav1.ConditionTrue}
	}
	nudge := func(v string) {
		t.Helper()
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur hypershiftv1beta1.HostedCluster
			if err := env.Client.Get(ctx, key, &cur); err != nil {
				return err
			}
			cur.Annotations = map[string]string{"test/nudge": v}
			return env.Client.Update(ctx, &cur)
		}); err != nil {
			t.Fatal(err)
		}
	}
	const timeout = 20 * time.Second
	envtest.Eventually(t, timeout, conditionsAre(allTrue))

	t.Run("no write when nothing changed", func(t *testing.T) {
		// A mirror-set change that changes nothing they mean (a label)
		// reconciles every HostedCluster: none may write anything. Writes
		// still settling from creation (the control-plane-operator's
		// conditions arriving on the HostedControlPlane reconcile again)
		// are waited out first.
		settled, last := time.Now(), writes.Load()
		envtest.Eventually(t, timeout, func() error {
			if cur := writes.Load(); cur != last {
				settled, last = time.Now(), cur
			}
			if time.Since(settled) < 2*time.Second {
				return errors.New("writes not settled")
			}
			return nil
		})
		before, n := writes.Load(), reconciles(t, "hostedcluster")
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur configv1.ImageDigestMirrorSet
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
				return err
			}
			cur.Labels = map[string]string{"test/touched": "1"}
			return env.Client.Update(ctx, &cur)
		}); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, timeout, func() error {
			if got := reconciles(t, "hostedcluster"); got <= n {
				return fmt.Errorf("no reconcile yet (%v)", got)
			}
			return nil
		})
		if got := writes.Load() - before; got != 0 {
			t.Errorf("%d writes after a change that changes nothing, want 0", got)
		}
	})

	t.Run("mirror sets unreadable", func(t *testing.T) {
		setsDown.Store(true)
		nudge("sets-down")
		envtest.Eventually(t, timeout, conditionsAre(map[string]st{
			hypershiftv1beta1.ValidMirrorSets:             {metav1.ConditionUnknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable},
			hypershiftv1beta1.ReleaseImageResolved:        {metav1.ConditionUnknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable},
			hypershiftv1beta1.RegistryOverridesPropagated: {metav1.ConditionUnknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable},
			hypershiftv1beta1.ValidImageContentSources:    {metav1.ConditionTrue, ""},
		}))
		setsDown.Store(false)
		nudge("sets-up")
		envtest.Eventually(t, timeout, conditionsAre(allTrue))
	})

	t.Run("write conflict", func(t *testing.T) {
		var before hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &before); err != nil {
			t.Fatal(err)
		}
		prev := meta.FindStatusCondition(before.Status.Conditions, hypershiftv1beta1.RegistryOverridesPropagated)
		conflicts.Store(true)
		// A second source: the deployments must be written (and conflict),
		// and ValidMirrorSets' message changes, so a status write during
		// the conflicts is seen.
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur configv1.ImageDigestMirrorSet
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
				return err
			}
			cur.Spec.ImageDigestMirrors = append(cur.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: "quay.io/vanish2", Mirrors: []string{"m2.sample.lab/vanish"}})
			return env.Client.Update(ctx, &cur)
		}); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, timeout, func() error {
			if hits.Load() < 3 {
				return fmt.Errorf("%d conflicts so far", hits.Load())
			}
			var got hypershiftv1beta1.HostedCluster
			if err := env.Client.Get(ctx, key, &got); err != nil {
				return err
			}
			if c := meta.FindStatusCondition(got.Status.Conditions, hypershiftv1beta1.ValidMirrorSets); c == nil || c.Message != "1 mirror sets give 2 sources." {
				return fmt.Errorf("ValidMirrorSets not rewritten during the conflicts yet: %+v", c)
			}
			return conditionsAre(allTrue)()
		})
		var during hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &during); err != nil {
			t.Fatal(err)
		}
		kept := meta.FindStatusCondition(during.Status.Conditions, hypershiftv1beta1.RegistryOverridesPropagated)
		if kept.Message != prev.Message || !kept.LastTransitionTime.Equal(&prev.LastTransitionTime) {
			t.Errorf("RegistryOverridesPropagated during conflicts = %+v, want it kept as %+v", kept, prev)
		}
		conflicts.Store(false)
		envtest.Eventually(t, timeout, func() error {
			var d appsv1.Deployment
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: hostedcluster.ControlPlaneNamespace(hc), Name: hostedcluster.IgnitionServerName}, &d); err != nil {
				return err
			}
			if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Args, func(a string) bool {
				return a == hostedcluster.FlagName+"=quay.io/vanish=m1.sample.lab/vanish,quay.io/vanish2=m2.sample.lab/vanish"
			}) {
				return fmt.Errorf("not propagated after the conflicts: %q", d.Spec.Template.Spec.Containers[0].Args)
			}
			return conditionsAre(allTrue)()
		})
	})
}

// TestUpgradeFromOneFieldManager: a HostedCluster whose conditions the
// previous operator wrote, all four under one field manager ("hcpmirror"),
// keeps all four once the two controllers take them over under their own
// managers, and afterwards.
func TestUpgradeFromOneFieldManager(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "upgraded"},
		Spec: hypershiftv1beta1.HostedClusterSpec{
			Release:    hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"},
			PullSecret: corev1.LocalObjectReference{Name: secret.Name},
		}}
	for _, obj := range []client.Object{secret, hc} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	key := client.ObjectKeyFromObject(hc)
	// What the previous operator left: every type, one manager.
	var old []any
	for _, ct := range allConditions {
		old = append(old, map[string]any{"type": ct, "status": "True", "reason": "AsExpected", "message": "written by the previous operator",
			"lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": int64(1)})
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(hypershiftv1beta1.GroupVersion.String())
	u.SetKind("HostedCluster")
	u.SetNamespace(ns)
	u.SetName(hc.Name)
	if err := unstructured.SetNestedSlice(u.Object, old, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("hcpmirror"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &hostedcluster.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Sets: &mirrorsets.Reader{Client: mgr.GetClient(), Kinds: mirrorsets.All}, Releases: staticReleases{}, Image: "quay.io/hcpmirror/hcpmirror:test"}
	if err := r.SetupWithManager(mgr, mirrorsets.All, 2); err != nil {
		t.Fatal(err)
	}
	if err := (&dataplane.Reconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	allNew := func() error {
		var got hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &got); err != nil {
			return err
		}
		for _, ct := range allConditions {
			c := meta.FindStatusCondition(got.Status.Conditions, ct)
			if c == nil {
				return fmt.Errorf("condition %s is missing: %+v", ct, got.Status.Conditions)
			}
			if c.Message == "written by the previous operator" || c.ObservedGeneration != got.Generation {
				return fmt.Errorf("%s not taken over yet: %+v", ct, c)
			}
		}
		return nil
	}
	envtest.Eventually(t, 20*time.Second, allNew)
	// Each controller now changes its own: none of the others goes.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &cur); err != nil {
			return err
		}
		cur.Spec.ImageContentSources = []hypershiftv1beta1.ImageContentSource{{Source: "quay.io/x", Mirrors: []string{"m.sample.lab/x"}}}
		return env.Client.Update(ctx, &cur)
	}); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 20*time.Second, func() error {
		if err := allNew(); err != nil {
			return err
		}
		var got hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &got); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(got.Status.Conditions, hypershiftv1beta1.ValidImageContentSources); c.Message != "1 imageContentSources entries are rendered for the nodes." {
			return fmt.Errorf("ValidImageContentSources = %q", c.Message)
		}
		return nil
	})
}
