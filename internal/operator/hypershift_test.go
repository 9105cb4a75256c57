package operator

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
)

// hyperShiftOwner is the field manager of the stand-in HyperShift.
var hyperShiftOwner = client.FieldOwner("hypershift-operator")

// installHyperShiftOperator writes HyperShift's operator Deployment as
// `hypershift install --namespace ns` does (no labels on the Deployment,
// HyperShift's on its pod template), scaled to 0; removed at the end.
func installHyperShiftOperator(t *testing.T, ns string) {
	t.Helper()
	labels := map[string]string{"name": "operator", "app": "operator", OperatorComponentLabel: "operator"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "operator"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "operator"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: "quay.io/hypershift/hypershift-operator:latest",
					Command: []string{hyperShiftOperatorCommand}, Args: []string{"run"}}}},
			},
		},
	}
	if err := env.Client.Create(context.Background(), d, hyperShiftOwner); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), d) })
}

// managedHostedCluster writes a HostedCluster as HyperShift's controller
// leaves it: with its finalizer. Removed (finalizer first) at the end.
func managedHostedCluster(t *testing.T, ns string) *hypershiftv1beta1.HostedCluster {
	t.Helper()
	ctx := context.Background()
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "managed", Finalizers: []string{HostedClusterFinalizer}}}
	hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc, hyperShiftOwner); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cur := &hypershiftv1beta1.HostedCluster{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), cur); err != nil {
			return
		}
		cur.Finalizers = nil
		if err := env.Client.Update(ctx, cur); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("removing the finalizer: %v", err)
		}
		_ = env.Client.Delete(ctx, cur)
	})
	return hc
}

// asServiceAccount installs the rendered RBAC into a fresh namespace and
// returns a config impersonating the operator's service account there, so
// detection runs with the rights that ship.
func asServiceAccount(t *testing.T) (*rest.Config, string) {
	t.Helper()
	ctx := context.Background()
	opNS := env.Namespace(t)
	for _, obj := range Objects(InstallOptions{Namespace: opNS, Image: "hcpmirror:test"}) {
		switch obj.(type) {
		case *corev1.Namespace, *appsv1.Deployment:
			continue
		}
		if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating rendered %T: %v", obj, err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + opNS + ":" + ServiceAccountName,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + opNS, "system:authenticated"},
	}
	return cfg, opNS
}

// TestDetectHyperShift: without --companion the operator refuses to start
// where HyperShift's operator runs in another namespace than the default
// (scaled to 0), where HostedClusters carry HyperShift's finalizer with no
// operator Deployment at all, or where HostedControlPlanes are written by
// HyperShift's field manager, naming what it found and --companion and
// writing nothing; with no HyperShift it starts; --companion starts in
// every case. Detection runs as the operator's rendered service account.
func TestDetectHyperShift(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		install func(t *testing.T) string // what the refusal must name; "" for none
	}{
		{"operator in another namespace, scaled to 0", func(t *testing.T) string {
			ns := env.Namespace(t)
			installHyperShiftOperator(t, ns)
			return "Deployment " + ns + "/operator is HyperShift's operator (pod template label " + OperatorComponentLabel + "=operator; 0 replicas)"
		}},
		{"HostedCluster with HyperShift's finalizer, no Deployment", func(t *testing.T) string {
			hc := managedHostedCluster(t, env.Namespace(t))
			return "HostedCluster " + hc.Namespace + "/" + hc.Name + " carries HyperShift's finalizer " + HostedClusterFinalizer
		}},
		{"HostedControlPlane written by HyperShift, nothing else", func(t *testing.T) string {
			ns := env.Namespace(t)
			hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
				Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"}}
			if err := env.Client.Create(ctx, hcp, client.FieldOwner(HyperShiftFieldManager)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), hcp) })
			return "HostedControlPlane " + ns + "/hc is written by HyperShift's field manager " + HyperShiftFieldManager
		}},
		{"no HyperShift", func(t *testing.T) string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.install(t)
			cfg, opNS := asServiceAccount(t)
			opts := Options{MetricsAddr: "0", ProbeAddr: "0", Kinds: &mirrorsets.All, LeaderElection: true, LeaderElectionNamespace: opNS}
			if want == "" {
				startOperatorAs(t, cfg, opts)()
			} else {
				_, err := New(cfg, opts)
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--companion") {
					t.Fatalf("New() = %v; want a refusal naming %q and --companion", err, want)
				}
				var leases coordinationv1.LeaseList
				if err := env.Client.List(ctx, &leases, client.InNamespace(opNS)); err != nil || len(leases.Items) != 0 {
					t.Errorf("a refused start wrote %d Leases (%v)", len(leases.Items), err)
				}
			}
			opts.Companion = true
			startOperatorAs(t, env.Config, opts)()
		})
	}
}
