package catalogs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// TestRemovedFieldApplied: a Service an older version wrote (same field
// manager, its own hash) with a label this version no longer sets loses
// it, although the live object holds every field now set; and once
// converged, an edit of a field the controller sets is corrected although
// the hash is current.
func TestRemovedFieldApplied(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	c := olmcatalogs.Catalogs[0]
	old := catalogs.Service(ns, c)
	old.Labels["dropped-since"] = "v1"
	old.Annotations = map[string]string{catalogs.AppliedHashAnnotation: "sha256:of-the-older-version's-object"}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(old)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(catalogs.FieldOwner)); err != nil {
		t.Fatal(err)
	}
	start(t, ns)
	key := client.ObjectKey{Namespace: ns, Name: c.Name}
	var hash string
	envtest.Eventually(t, 20*time.Second, func() error {
		var s corev1.Service
		if err := env.Client.Get(ctx, key, &s); err != nil {
			return err
		}
		if v, ok := s.Labels["dropped-since"]; ok {
			return fmt.Errorf("label dropped-since=%s still there", v)
		}
		if hash = s.Annotations[catalogs.AppliedHashAnnotation]; hash == "" || hash == old.Annotations[catalogs.AppliedHashAnnotation] {
			return fmt.Errorf("applied hash %q", hash)
		}
		return nil
	})

	// Someone else edits a field the controller sets: corrected.
	var s corev1.Service
	if err := env.Client.Get(ctx, key, &s); err != nil {
		t.Fatal(err)
	}
	s.Labels[catalogs.ComponentLabel] = "edited"
	if err := env.Client.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 20*time.Second, func() error {
		var s corev1.Service
		if err := env.Client.Get(ctx, key, &s); err != nil {
			return err
		}
		if got := s.Labels[catalogs.ComponentLabel]; got != c.Name {
			return fmt.Errorf("label %s=%s", catalogs.ComponentLabel, got)
		}
		if got := s.Annotations[catalogs.AppliedHashAnnotation]; got != hash {
			return fmt.Errorf("applied hash %q, want %q (the desired object did not change)", got, hash)
		}
		return nil
	})
}
