package mirrorsets

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/api/install"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
)

func TestReaderCompilesOncePerChange(t *testing.T) {
	ctx := context.Background()
	idms := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: "a"},
		Spec: configv1.ImageDigestMirrorSetSpec{ImageDigestMirrors: []configv1.ImageDigestMirrors{{Source: "quay.io/a", Mirrors: []string{"m.example.com/a"}}}}}
	icsp := &operatorv1alpha1.ImageContentSourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: "old"},
		Spec: operatorv1alpha1.ImageContentSourcePolicySpec{RepositoryDigestMirrors: []operatorv1alpha1.RepositoryDigestMirrors{{Source: "quay.io/Bad", Mirrors: []string{"m.example.com"}}}}}
	c := fake.NewClientBuilder().WithScheme(install.NewScheme()).WithObjects(idms, icsp).Build()

	// ICSP not served: only the IDMS counts, and it is valid.
	r := &Reader{Client: c, Kinds: Kinds{IDMS: true, ITMS: true}}
	first, err := r.Read(ctx)
	if err != nil || first.Invalid != nil || len(first.Sets) != 1 || first.Config.Len() != 1 {
		t.Fatalf("Read() = %+v, %v; want one valid IDMS", first, err)
	}
	again, err := r.Read(ctx)
	if err != nil || again != first {
		t.Errorf("unchanged objects must return the same compiled snapshot")
	}
	idms.Spec.ImageDigestMirrors[0].Mirrors = []string{"n.example.com/a"}
	if err := c.Update(ctx, idms); err != nil {
		t.Fatal(err)
	}
	changed, err := r.Read(ctx)
	if err != nil || changed == first || changed.Config.Lookup("quay.io/a").DigestMirrors[0] != "n.example.com/a" {
		t.Errorf("a changed object must recompile: %+v, %v", changed, err)
	}

	// With ICSP served, its bad source makes the snapshot invalid, naming it.
	all := &Reader{Client: c, Kinds: All}
	snap, err := all.Read(ctx)
	if err != nil || snap.Invalid == nil || snap.Config != nil {
		t.Fatalf("Read() with a bad ICSP = %+v, %v; want Invalid", snap, err)
	}
}
