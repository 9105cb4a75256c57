package catalogs_test

import (
	"context"
	"fmt"
	"k8s.io/client-go/util/retry"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	imagev1 "github.com/hcpmirror/hcpmirror/api/image/v1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/livemirrors"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
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

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testImage is the control-plane-operator's image, which the catalog
// servers run.
const testImage = "mirror.example.com/hcpmirror/hcpmirror@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func start(t *testing.T, ns string) {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := catalogs.SetupWithManager(mgr, ns, testImage); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func pinAnnotations(skip string, bad map[string]string) map[string]string {
	ann := map[string]string{}
	for _, c := range olmcatalogs.Catalogs {
		if c.Name == skip {
			continue
		}
		ann[c.PinAnnotation()] = "mirror.example.com/olm/" + c.Index + "@" + digest
		if v, ok := bad[c.Name]; ok {
			ann[c.PinAnnotation()] = v
		}
	}
	return ann
}

func condition(t *testing.T, ns string) (*metav1.Condition, *hypershiftv1beta1.HostedControlPlane) {
	var hcp hypershiftv1beta1.HostedControlPlane
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hc"}, &hcp); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(hcp.Status.Conditions, hypershiftv1beta1.OLMCatalogsReconciled), &hcp
}

func waitCondition(t *testing.T, ns string, status metav1.ConditionStatus, reason string, msgHas ...string) {
	t.Helper()
	envtest.Eventually(t, 20*time.Second, func() error {
		c, hcp := condition(t, ns)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != hcp.Generation {
			return fmt.Errorf("condition %+v, want %s %s", c, status, reason)
		}
		for _, m := range msgHas {
			if !strings.Contains(c.Message, m) {
				return fmt.Errorf("message %q lacks %q", c.Message, m)
			}
		}
		return nil
	})
}

func images(t *testing.T, ns string) map[string]string {
	out := map[string]string{}
	for _, c := range olmcatalogs.Catalogs {
		var d appsv1.Deployment
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: c.DeploymentName()}, &d); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			t.Fatal(err)
		}
		ct := d.Spec.Template.Spec.Containers[0]
		if ct.Image != testImage || len(ct.Command) != 1 || ct.Command[0] != "hcpmirror" || len(ct.Args) < 2 || ct.Args[0] != "catalog-server" {
			t.Errorf("deployment %s runs %s %v %v, want hcpmirror catalog-server from %s", d.Name, ct.Image, ct.Command, ct.Args, testImage)
		}
		for _, a := range ct.Args {
			if ref, ok := strings.CutPrefix(a, "--catalog-image="); ok {
				out[c.Name] = ref
			}
		}
	}
	return out
}

func imageStream(t *testing.T, ns string) *imagev1.ImageStream {
	var is imagev1.ImageStream
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: catalogs.ImageStreamName}, &is)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &is
}

func setAnnotations(t *testing.T, ns string, ann map[string]string) {
	t.Helper()
	_, hcp := condition(t, ns)
	for _, k := range olmcatalogs.AnnotationKeys() {
		delete(hcp.Annotations, k)
	}
	if hcp.Annotations == nil {
		hcp.Annotations = map[string]string{}
	}
	for k, v := range ann {
		hcp.Annotations[k] = v
	}
	if err := env.Client.Update(context.Background(), hcp); err != nil {
		t.Fatal(err)
	}
}

// TestManagementPlacement walks one HostedControlPlane through the cases:
// defaults, overrides (longest prefix), a bad pair, pins and bad pins, and
// checks after each what the namespace holds.
func TestManagementPlacement(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{
			ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64",
			PullSecret:   corev1.LocalObjectReference{Name: "pull-secret"},
		},
	}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	start(t, ns)

	// Defaults for 4.18.
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, "4.18")
	is := imageStream(t, ns)
	if is == nil || !is.Spec.LookupPolicy.Local || len(is.Spec.Tags) != 4 {
		t.Fatalf("ImageStream %+v", is)
	}
	for i, c := range olmcatalogs.Catalogs {
		tag := is.Spec.Tags[i]
		if tag.Name != c.Name || tag.From.Kind != "DockerImage" || tag.From.Name != c.DefaultImage(18) ||
			!tag.ImportPolicy.Scheduled || tag.ImportPolicy.ImportMode != "PreserveOriginal" || tag.ReferencePolicy.Type != "Local" {
			t.Errorf("tag %d: %+v", i, tag)
		}
	}
	got := images(t, ns)
	for _, c := range olmcatalogs.Catalogs {
		if got[c.Name] != c.DefaultImage(18) {
			t.Errorf("deployment %s image %q", c.DeploymentName(), got[c.Name])
		}
		var svc corev1.Service
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.Name}, &svc); err != nil || svc.Spec.Ports[0].Port != 50051 {
			t.Errorf("service %s: %v %+v", c.Name, err, svc.Spec.Ports)
		}
	}
	var dep appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redhat-operators-catalog"}, &dep); err != nil {
		t.Fatal(err)
	}
	if _, ok := dep.Annotations[catalogs.TriggersAnnotation]; ok {
		t.Errorf("trigger annotation %q: OpenShift's trigger controller would overwrite the hcpmirror image", dep.Annotations[catalogs.TriggersAnnotation])
	}
	spec := dep.Spec.Template.Spec
	if spec.ServiceAccountName != catalogs.ServerName || !ptr.Deref(spec.AutomountServiceAccountToken, false) ||
		spec.Containers[0].Ports[0].ContainerPort != 50051 || spec.Containers[0].Ports[0].Name != "grpc" ||
		spec.Containers[0].ReadinessProbe.GRPC == nil || spec.Containers[0].ReadinessProbe.GRPC.Port != 50051 ||
		spec.Containers[0].LivenessProbe.TCPSocket == nil || spec.Containers[0].LivenessProbe.TCPSocket.Port.IntValue() != 50051 {
		t.Errorf("deployment shape: %+v", spec)
	}
	rv := dep.ResourceVersion

	// Overrides: the longest prefix wins; no substring match.
	setAnnotations(t, ns, map[string]string{olmcatalogs.OverridesAnnotation: "registry.redhat.io=broad.example.com,registry.redhat.io/redhat=narrow.example.com/rh,redhat.io=evil.example.com"})
	envtest.Eventually(t, 20*time.Second, func() error {
		if got := images(t, ns)["redhat-operators"]; got != "narrow.example.com/rh/redhat-operator-index:v4.18" {
			return fmt.Errorf("image %q", got)
		}
		if is := imageStream(t, ns); is == nil || is.Spec.Tags[3].From.Name != "narrow.example.com/rh/redhat-operator-index:v4.18" {
			return fmt.Errorf("imagestream %+v", is)
		}
		return nil
	})
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected)
	good := images(t, ns)

	// A bad pair: a condition naming it, the last good catalogs stay.
	setAnnotations(t, ns, map[string]string{olmcatalogs.OverridesAnnotation: "registry.redhat.io/redhat=narrow.example.com/rh,bogus"})
	waitCondition(t, ns, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidCatalogAnnotations, `pair 2 "bogus"`)
	if d := images(t, ns); fmt.Sprint(d) != fmt.Sprint(good) {
		t.Errorf("images changed on a bad annotation: %v, want %v", d, good)
	}

	// Bad pins: each names the pin; nothing half-applied.
	for _, tc := range []struct {
		name string
		ann  map[string]string
		want string
	}{
		{"three of four", pinAnnotations("community-operators", nil), "community-operators-catalog-image is missing"},
		{"a tag instead of a digest", pinAnnotations("", map[string]string{"redhat-marketplace": "mirror.example.com/olm/x:v4.18"}), "redhat-marketplace-catalog-image"},
		{"a short digest", pinAnnotations("", map[string]string{"certified-operators": "mirror.example.com/olm/x@sha256:0123456789abcdef0123456789abcdef"}), "certified-operators-catalog-image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setAnnotations(t, ns, tc.ann)
			waitCondition(t, ns, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidCatalogAnnotations, tc.want)
			if d := images(t, ns); fmt.Sprint(d) != fmt.Sprint(good) {
				t.Errorf("images changed on bad pins: %v, want %v", d, good)
			}
			if imageStream(t, ns) == nil {
				t.Error("ImageStream removed on bad pins")
			}
		})
	}

	// Valid pins: no ImageStream, the digests in the Deployments.
	pins := pinAnnotations("", nil)
	setAnnotations(t, ns, pins)
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, "pinned")
	envtest.Eventually(t, 20*time.Second, func() error {
		if imageStream(t, ns) != nil {
			return fmt.Errorf("ImageStream still there")
		}
		return nil
	})
	for _, c := range olmcatalogs.Catalogs {
		if got := images(t, ns)[c.Name]; got != pins[c.PinAnnotation()] {
			t.Errorf("%s: image %q, want the pin", c.Name, got)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redhat-operators-catalog"}, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.ResourceVersion == rv {
		t.Errorf("pinned deployment was not rewritten")
	}

	// A quiet reconcile writes nothing: touch an unrelated label and
	// compare resourceVersions.
	before := dep.ResourceVersion
	_, h := condition(t, ns)
	h.Labels = map[string]string{"touch": "1"}
	if err := env.Client.Update(ctx, h); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redhat-operators-catalog"}, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.ResourceVersion != before {
		t.Errorf("an unchanged deployment was rewritten (resourceVersion %s -> %s)", before, dep.ResourceVersion)
	}
}

// TestReleaseByDigest: the minor cannot be read, so the condition is
// Unknown and nothing is written.
func TestReleaseByDigest(t *testing.T) {
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{
			ReleaseImage: "quay.io/openshift-release-dev/ocp-release@" + digest,
			PullSecret:   corev1.LocalObjectReference{Name: "pull-secret"},
		},
	}
	if err := env.Client.Create(context.Background(), hcp); err != nil {
		t.Fatal(err)
	}
	start(t, ns)
	waitCondition(t, ns, metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseVersionUnknown, "no tag")
	if len(images(t, ns)) != 0 || imageStream(t, ns) != nil {
		t.Error("catalogs written without a version")
	}
	// The release lookup's condition gives the version.
	_, h := condition(t, ns)
	meta.SetStatusCondition(&h.Status.Conditions, metav1.Condition{Type: hypershiftv1beta1.ReleaseImageResolved, Status: metav1.ConditionTrue, Reason: "AsExpected",
		Message: "Release 4.17.2 (quay.io/openshift-release-dev/ocp-release@" + digest + ") was read from mirror.example.com/ocp."})
	if err := env.Client.Status().Update(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, "4.17")
	if got := images(t, ns)["redhat-operators"]; got != "registry.redhat.io/redhat/redhat-operator-index:v4.17" {
		t.Errorf("image %q, want the 4.17 default", got)
	}
}

// TestRulesAreEnough runs the controller as a service account holding only
// Rules() in the namespace, with the manager's cache restricted to it as
// the control-plane-operator's is.
func TestRulesAreEnough(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "control-plane-operator"}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "catalogs"}, Rules: catalogs.Rules()}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "catalogs"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "catalogs"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: sa.Name}}}
	for _, o := range []client.Object{sa, role, rb} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.20.0-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa.Name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := catalogs.SetupWithManager(mgr, ns, testImage); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected, "4.20")
	if len(images(t, ns)) != 4 || imageStream(t, ns) == nil {
		t.Error("catalogs not written under Rules()")
	}
	setAnnotations(t, ns, pinAnnotations("", nil))
	envtest.Eventually(t, 20*time.Second, func() error {
		if imageStream(t, ns) != nil {
			return fmt.Errorf("ImageStream not deleted under Rules()")
		}
		return nil
	})

	// The identity changes the servers' ServiceAccount, Role and
	// RoleBinding only: not another one of the namespace.
	as, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "other"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		kind := fmt.Sprintf("%T %s", o, o.GetName())
		o.SetLabels(map[string]string{"edited": "yes"})
		if err := as.Update(ctx, o); !apierrors.IsForbidden(err) {
			t.Errorf("update of %s under Rules(): %v, want forbidden", kind, err)
		}
		patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"edited":"yes"}}}`))
		if err := as.Patch(ctx, o, patch); !apierrors.IsForbidden(err) {
			t.Errorf("patch of %s under Rules(): %v, want forbidden", kind, err)
		}
	}
}

// TestImportedDigest: an importer's status item for a tag moves the
// Deployment's catalog reference to the tag's repository by that digest,
// and a new import moves it again; the Deployment follows the watched
// ImageStream.
func TestImportedDigest(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	start(t, ns)
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected)
	envtest.Eventually(t, 20*time.Second, func() error {
		if got := images(t, ns)["redhat-operators"]; got != "registry.redhat.io/redhat/redhat-operator-index:v4.16" {
			return fmt.Errorf("catalog %q, want the tag before any import", got)
		}
		return nil
	})
	for _, d := range []string{digest, "sha256:" + strings.Repeat("b", 64)} {
		is := imageStream(t, ns)
		is.Status.Tags = []imagev1.NamedTagEventList{
			// OpenShift's importer records the source repository and
			// the spec generation imported.
			{Tag: "redhat-operators", Items: []imagev1.TagEvent{{Image: d, DockerImageReference: "registry.redhat.io/redhat/redhat-operator-index@" + d, Generation: is.Generation}}},
			{Tag: "community-operators", Items: []imagev1.TagEvent{{Image: "sha256:short"}}}, // not followed
		}
		if err := env.Client.Status().Update(ctx, is); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, 20*time.Second, func() error {
			got := images(t, ns)
			if got["redhat-operators"] != "registry.redhat.io/redhat/redhat-operator-index@"+d {
				return fmt.Errorf("catalog %q, want the imported digest %s", got["redhat-operators"], d)
			}
			if got["community-operators"] != "registry.redhat.io/redhat/community-operator-index:v4.16" {
				return fmt.Errorf("community catalog %q", got["community-operators"])
			}
			return nil
		})
	}
}

// writeCounter counts the requests that change objects (everything but
// GET, LIST and WATCH).
type writeCounter struct {
	rt http.RoundTripper
	n  atomic.Int64
	mu sync.Mutex
	by []string
}

func (w *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		w.n.Add(1)
		w.mu.Lock()
		w.by = append(w.by, r.Method+" "+r.URL.Path)
		w.mu.Unlock()
	}
	return w.rt.RoundTrip(r)
}

// TestNoWriteWhenUnchanged counts the write requests of the controller's
// own client over repeated reconciles of an unchanged HostedControlPlane:
// after convergence, none.
func TestNoWriteWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{}
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.rt = rt; return counter })
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	r := &catalogs.Reconciler{Client: mgr.GetClient(), Namespace: ns, Image: testImage}
	if err := catalogs.SetupWithManager(mgr, ns, testImage); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected)
	req := reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hc"}}
	// Converge: reconcile until a round writes nothing, within a few rounds
	// (the cache catches up with the manager's own writes).
	var last int64
	envtest.Eventually(t, 20*time.Second, func() error {
		before := counter.n.Load()
		if _, err := r.Reconcile(ctx, req); err != nil {
			return err
		}
		last = counter.n.Load() - before
		if last != 0 {
			counter.mu.Lock()
			defer counter.mu.Unlock()
			return fmt.Errorf("a reconcile wrote %d times: %v", last, counter.by[len(counter.by)-int(last):])
		}
		return nil
	})
	before := counter.n.Load()
	counter.mu.Lock()
	counter.by = nil
	counter.mu.Unlock()
	for range 10 {
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if n := counter.n.Load() - before; n != 0 {
		t.Errorf("10 reconciles of an unchanged HostedControlPlane wrote %d times: %v", n, counter.by)
	}
}

// TestServerRulesAreEnough checks the catalog servers' Role by
// impersonation: their ServiceAccount can watch the live mirrors ConfigMap
// by name, and read nothing else: no other ConfigMap, no Secret.
func TestServerRulesAreEnough(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, o := range []client.Object{catalogs.ServiceAccount(ns), catalogs.Role(ns), catalogs.RoleBinding(ns),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: hostedcluster.RegistriesConfigMap}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + catalogs.ServerName,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	kube := kubernetes.NewForConfigOrDie(cfg)
	mirrors, err := livemirrors.New("", nil, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := mirrors.Watch(wctx, kube, ns); err != nil {
		t.Fatalf("watching the ConfigMap as the catalog server: %v", err)
	}
	if _, _, err := mirrors.Get(); err == nil {
		t.Errorf("the empty ConfigMap was not read (no registries.conf key is an error)")
	}
	if _, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "other", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get another ConfigMap = %v, want forbidden", err)
	}
	if _, err := kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list every ConfigMap = %v, want forbidden", err)
	}
	if _, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list Secrets = %v, want forbidden", err)
	}
}

// TestTriggerAnnotationRemoved: a Deployment an older version wrote with
// the image trigger annotation (same field manager) loses it, although
// every field the controller now sets may already match.
func TestTriggerAnnotationRemoved(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	c := olmcatalogs.Catalogs[3]
	old := catalogs.Deployment(ns, c, catalogs.DeploymentInput{Image: testImage, Catalog: c.DefaultImage(18), HCP: hcp})
	old.Annotations = map[string]string{catalogs.TriggersAnnotation: `[{"from":{"kind":"ImageStreamTag","name":"catalogs:redhat-operators"}}]`}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(old)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(catalogs.FieldOwner)); err != nil {
		t.Fatal(err)
	}
	start(t, ns)
	envtest.Eventually(t, 20*time.Second, func() error {
		var d appsv1.Deployment
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.DeploymentName()}, &d); err != nil {
			return err
		}
		if _, ok := d.Annotations[catalogs.TriggersAnnotation]; ok {
			return fmt.Errorf("trigger annotation still there")
		}
		return nil
	})
}

// TestCarriersKeptFromOperator: once a catalog Deployment exists, its
// override carriers are the management operator's to rewrite (after a
// mirror-set edit, hostedcluster.UpdateForeign); the controller, started
// with older overrides, seeds them but never writes its own back, so the
// two never take turns.
func TestCarriersKeptFromOperator(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	const started, edited = "quay.io/openshift-release-dev=mirror.example.com/old", "quay.io/openshift-release-dev=mirror.example.com/new"
	r := &catalogs.Reconciler{Client: mgr.GetClient(), Namespace: ns, Image: testImage, EnvOverrides: started, FlagOverrides: []string{started}}
	if err := r.Setup(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })

	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	c := olmcatalogs.Catalogs[3]
	key := client.ObjectKey{Namespace: ns, Name: c.DeploymentName()}
	carries := func(want string) error {
		var d appsv1.Deployment
		if err := env.Client.Get(ctx, key, &d); err != nil {
			return err
		}
		for _, cc := range hostedcluster.FindCarriers(&d) {
			if cc.Flag == nil || *cc.Flag != want || cc.Env == nil || *cc.Env != want {
				return fmt.Errorf("%s carries flag %s, env %s; want %s", cc.Container, ptr.Deref(cc.Flag, "(none)"), ptr.Deref(cc.Env, "(none)"), want)
			}
		}
		return nil
	}
	envtest.Eventually(t, 20*time.Second, func() error { return carries(started) })

	// The operator's update after a mirror-set edit.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d appsv1.Deployment
		if err := env.Client.Get(ctx, key, &d); err != nil {
			return err
		}
		if !hostedcluster.UpdateForeign(&d, hostedcluster.Carriers{Flag: edited, Env: edited}) {
			return fmt.Errorf("UpdateForeign changed nothing")
		}
		return env.Client.Update(ctx, &d)
	}); err != nil {
		t.Fatal(err)
	}
	// A reconcile for another reason (an annotation), then a while.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedControlPlane
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hcp), &cur); err != nil {
			return err
		}
		cur.Annotations = map[string]string{"example.com/touch": "1"}
		return env.Client.Update(ctx, &cur)
	}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := carries(edited); err != nil {
			t.Fatalf("after the operator's update: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
