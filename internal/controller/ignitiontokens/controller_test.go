package ignitiontokens_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
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

// TestUnreadableConfigKeepsToken: a NodePool whose config ConfigMap cannot
// be read for a while (being recreated) keeps its token Secret, so nodes
// booting then are not locked out; the error is reported, not acted on.
func TestUnreadableConfigKeepsToken(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	hcp := &hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc"},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: "quay.io/r:1", PullSecret: corev1.LocalObjectReference{Name: "pull-secret"}}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "workers-config"}, Data: map[string]string{ignitiontokens.ConfigKey: "kind: MachineConfig\n"}}
	np := &hypershiftv1beta1.NodePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "workers"},
		Spec: hypershiftv1beta1.NodePoolSpec{ClusterName: "hc", Release: hypershiftv1beta1.Release{Image: "quay.io/r:1"},
			Config: []corev1.LocalObjectReference{{Name: cm.Name}}}}
	for _, o := range []client.Object{hcp, cm, np} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	r := &ignitiontokens.Reconciler{Client: env.Client, APIReader: env.Client, Namespace: ns, NodePoolNamespace: ns,
		Rotation: time.Hour, Grace: time.Minute}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(hcp)}
	tokens := func() []string {
		t.Helper()
		var list corev1.SecretList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{ignitiontokens.TokenLabel: "true"}); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Name+"="+string(s.Data[ignitiontokens.TokenKey]))
		}
		return names
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	before := tokens()
	if len(before) != 1 {
		t.Fatalf("token Secrets = %v, want one", before)
	}
	if err := env.Client.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	_, err := r.Reconcile(ctx, req)
	if err == nil {
		t.Error("Reconcile with the pool's ConfigMap gone = nil error, want the read error")
	}
	if after := tokens(); len(after) != 1 || after[0] != before[0] {
		t.Errorf("token Secrets after a failed config read = %v, want %v kept", after, before)
	}
}
