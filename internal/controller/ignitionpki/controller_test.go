package ignitionpki_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitionpki"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

var env *envtest.Environment

func TestMain(m *testing.M) {
	var err error
	if env, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// TestRenewal drives Reconcile with a moving clock on the real API server:
// the Secrets are made, a second reconcile writes nothing, the serving
// certificate is reissued (same CA) once two-thirds of its life passed, and
// a deleted CA is replaced together with its published copy and the
// serving certificate.
func TestRenewal(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/r:1", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	if err := env.Client.Create(ctx, hcp); err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	r := &ignitionpki.Reconciler{Client: env.Client, Now: func() time.Time { return time.Unix(0, now.Load()) }}
	reconcileOnce := func() reconcile.Result {
		t.Helper()
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(hcp)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	read := func(name string) corev1.Secret {
		t.Helper()
		var s corev1.Secret
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	res := reconcileOnce()
	if d := res.RequeueAfter; d < ignitionpki.ServingValidity/2 || d > ignitionpki.ServingValidity {
		t.Errorf("requeue after %s, want about two-thirds of %s", d, ignitionpki.ServingValidity)
	}
	ca, serving := read(ignitionpki.CASecret), read(ignitionpki.ServingCertSecret)
	if published := read(ignitionpki.CACertSecret); !bytes.Equal(published.Data["tls.crt"], ca.Data["tls.crt"]) {
		t.Error("published CA differs from the CA")
	}
	var got hypershiftv1beta1.HostedControlPlane
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hcp), &got); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, hypershiftv1beta1.IgnitionServerCertificatesReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("IgnitionServerCertificatesReady = %+v", c)
	}

	reconcileOnce()
	if again := read(ignitionpki.ServingCertSecret); again.ResourceVersion != serving.ResourceVersion {
		t.Error("an unchanged reconcile wrote the serving certificate")
	}

	now.Add(int64(ignitionpki.ServingValidity * 2 / 3))
	now.Add(int64(time.Hour))
	reconcileOnce()
	renewed := read(ignitionpki.ServingCertSecret)
	if bytes.Equal(renewed.Data["tls.crt"], serving.Data["tls.crt"]) {
		t.Error("the serving certificate was not renewed two-thirds into its life")
	}
	if cur := read(ignitionpki.CASecret); !bytes.Equal(cur.Data["tls.crt"], ca.Data["tls.crt"]) {
		t.Error("the CA changed with the serving certificate's renewal")
	}

	if err := env.Client.Delete(ctx, &ca); err != nil {
		t.Fatal(err)
	}
	reconcileOnce()
	newCA := read(ignitionpki.CASecret)
	if bytes.Equal(newCA.Data["tls.crt"], ca.Data["tls.crt"]) {
		t.Error("a deleted CA came back identical")
	}
	if published := read(ignitionpki.CACertSecret); !bytes.Equal(published.Data["tls.crt"], newCA.Data["tls.crt"]) {
		t.Error("the published CA was not replaced")
	}
	if s := read(ignitionpki.ServingCertSecret); bytes.Equal(s.Data["tls.crt"], renewed.Data["tls.crt"]) {
		t.Error("the serving certificate of the old CA was kept")
	}
}
