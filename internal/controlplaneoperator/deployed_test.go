package controlplaneoperator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitionpki"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	testregistry "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// env is the management cluster, guest the hosted cluster's API server.
var env, guest *envtest.Environment

func TestMain(m *testing.M) {
	var err error
	if env, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if guest, err = envtest.Start(); err != nil {
		_ = env.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = guest.Stop()
	_ = env.Stop()
	os.Exit(code)
}

const timeout = 60 * time.Second

// TestDeployedControlPlaneOperator takes the control-plane-operator
// Deployment exactly as the management operator wrote it and runs it with
// the kubelet stand-in, as its own ServiceAccount with the RBAC the operator
// bound, against the real API server, a TLS registry with basic auth that
// serves the release (trusted through the HostedCluster's
// additionalTrustBundle) and a second API server as the guest. It proves the
// HostedControlPlane status, the ignition PKI and token Secrets, the nodes'
// ConfigMap and the guest IDMS appear; that a restart in the middle of an
// imageContentSources change converges; and that tokens rotate.
func TestDeployedControlPlaneOperator(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	// Two registries on one storage (and so one CA): the second is where
	// the ignition-server part switches the management mirror sets to.
	store := t.TempDir()
	reg := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithDataDir(store), testregistry.WithBasicAuth("mirror-user", "s3cret"))
	reg2 := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithDataDir(store), testregistry.WithBasicAuth("mirror-user", "s3cret"))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = reg.CertPool
	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{
		Destination:   reg.Addr,
		RemoteOptions: []remote.Option{remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: "mirror-user", Password: "s3cret"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	idms := &configv1.ImageDigestMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: ns + "-release"}}
	itms := &configv1.ImageTagMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: ns + "-release"}}
	for _, m := range pub.Mirrors {
		idms.Spec.ImageDigestMirrors = append(idms.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: m.Source, Mirrors: m.Mirrors, MirrorSourcePolicy: configv1.NeverContactSource})
		itms.Spec.ImageTagMirrors = append(itms.Spec.ImageTagMirrors, configv1.ImageTagMirrors{Source: m.Source, Mirrors: m.Mirrors, MirrorSourcePolicy: configv1.NeverContactSource})
	}
	create(t, idms, itms)
	for _, cr := range operator.ComponentClusterRoles() {
		if err := env.Client.Create(ctx, cr); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}

	provider, err := releaseinfo.New(releaseinfo.WithRegistryOptions(registry.WithoutDefaultAuthFile(), registry.WithCAFile(reg.CAFile)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	startOperator(t, operator.Options{Releases: operator.Releases(provider), Image: "quay.io/hcpmirror/hcpmirror:test"})

	caPEM, err := os.ReadFile(reg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("mirror-user:s3cret"))
	create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc-pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q},%q:{"auth":%q}}}`, reg.Addr, auth, reg2.Addr, auth))}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mirror-ca"}, Data: map[string]string{hostedcluster.TrustBundleKey: string(caPEM)}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "workers-config"}, Data: map[string]string{"config": "kind: MachineConfig\nmetadata:\n  name: extra\n"}},
		&hypershiftv1beta1.NodePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "workers"}, Spec: hypershiftv1beta1.NodePoolSpec{
			ClusterName: "guest", Release: hypershiftv1beta1.Release{Image: pub.ReleaseTag}, Replicas: ptr.To[int32](2),
			Config: []corev1.LocalObjectReference{{Name: "workers-config"}}}},
	)
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "guest"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: pub.ReleaseTag},
			PullSecret:            corev1.LocalObjectReference{Name: "hc-pull-secret"},
			AdditionalTrustBundle: &corev1.LocalObjectReference{Name: "mirror-ca"},
			ImageContentSources:   []hypershiftv1beta1.ImageContentSource{{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"guest-mirror.sample.lab/release"}}}}}
	create(t, hc)
	cpns := hostedcluster.ControlPlaneNamespace(hc)

	var dep appsv1.Deployment
	envtest.Eventually(t, timeout, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: cpns, Name: hostedcluster.ControlPlaneOperatorName}, &dep)
	})
	// The guest API server's kubeconfig, where HyperShift keeps it.
	kc, err := os.ReadFile(guest.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cpns, Name: dataplane.GuestKubeconfigSecret}, Data: map[string][]byte{dataplane.GuestKubeconfigKey: kc}})

	// Token rotation within the test's time: the one change to what the
	// operator wrote, two flags appended.
	run := dep.DeepCopy()
	run.Spec.Template.Spec.Containers[0].Args = append(run.Spec.Template.Spec.Containers[0].Args, "--token-rotation-interval=4s", "--token-grace-period=2s")
	kopts := kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": kubelet.Binary(t)}}
	built := time.Now()
	pod := kubelet.Run(t, kopts, run)

	hcpKey := client.ObjectKey{Namespace: cpns, Name: hc.Name}
	envtest.Eventually(t, timeout, func() error {
		var hcp hypershiftv1beta1.HostedControlPlane
		if err := env.Client.Get(ctx, hcpKey, &hcp); err != nil {
			return err
		}
		for _, ct := range []string{hypershiftv1beta1.ReleaseImageResolved, hypershiftv1beta1.ValidImageContentSources, hypershiftv1beta1.GuestMirrorSetsApplied,
			hypershiftv1beta1.IgnitionServerCertificatesReady, hypershiftv1beta1.IgnitionTokensReady} {
			c := meta.FindStatusCondition(hcp.Status.Conditions, ct)
			if c == nil || c.Status != metav1.ConditionTrue {
				return fmt.Errorf("%s = %+v\nlogs:\n%s", ct, c, tail(pod.Logs()))
			}
		}
		if hcp.Status.Version != pub.Version || !strings.Contains(hcp.Status.ReleaseServedBy, reg.Addr) || !strings.Contains(hcp.Status.ReleaseImage, "@sha256:") {
			return fmt.Errorf("status = %+v", hcp.Status)
		}
		return nil
	})
	// Probes and metrics, on the host ports the container ports were given.
	for _, probe := range []struct {
		port int32
		path string
		want string
	}{{8081, "/healthz", "ok"}, {8081, "/readyz", "ok"}, {8080, "/metrics", `controller_runtime_reconcile_total{controller="ignitiontokens"`}} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", pod.Port(probe.port), probe.path))
		if err != nil {
			t.Fatalf("%s: %v", probe.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), probe.want) {
			t.Errorf("%s: %d, body lacks %q", probe.path, resp.StatusCode, probe.want)
		}
	}
	t.Logf("control-plane-operator converged %.1fs after its start (binary built in %.1fs; test start to converge %.1fs)",
		time.Since(built).Seconds(), built.Sub(start).Seconds(), time.Since(start).Seconds())

	// The catalog Deployments it wrote, under its own RBAC: the operator's
	// image (passed as --image), the catalog server as its own
	// ServiceAccount (internal/controller/catalogs runs them).
	envtest.Eventually(t, timeout, func() error {
		for _, c := range olmcatalogs.Catalogs {
			var d appsv1.Deployment
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: cpns, Name: c.DeploymentName()}, &d); err != nil {
				return err
			}
			spec := d.Spec.Template.Spec
			if ct := spec.Containers[0]; ct.Image != "quay.io/hcpmirror/hcpmirror:test" || len(ct.Args) == 0 || ct.Args[0] != "catalog-server" || spec.ServiceAccountName != catalogs.ServerName {
				return fmt.Errorf("catalog Deployment %s runs %s %v as %s", d.Name, ct.Image, ct.Args, spec.ServiceAccountName)
			}
		}
		var rb rbacv1.RoleBinding
		return env.Client.Get(ctx, client.ObjectKey{Namespace: cpns, Name: catalogs.ServerName}, &rb)
	})

	// PKI: a CA, its published certificate, a serving certificate for the Service.
	var ca, caCert, serving corev1.Secret
	get(t, cpns, ignitionpki.CASecret, &ca)
	get(t, cpns, ignitionpki.CACertSecret, &caCert)
	get(t, cpns, ignitionpki.ServingCertSecret, &serving)
	if !bytes.Equal(ca.Data["tls.crt"], caCert.Data["tls.crt"]) || len(caCert.Data) != 1 || serving.Type != corev1.SecretTypeTLS || len(serving.Data["tls.key"]) == 0 {
		t.Errorf("PKI Secrets: ca %v, published %v, serving %s", keys(ca.Data), keys(caCert.Data), serving.Type)
	}
	// The token Secret.
	tok := tokenSecret(t, cpns)
	if !strings.HasPrefix(tok.Name, "token-workers-") || string(tok.Data[ignitiontokens.ReleaseKey]) != pub.ReleaseTag ||
		!strings.Contains(string(tok.Data[ignitiontokens.ConfigKey]), "name: extra") || len(tok.Data[ignitiontokens.TokenKey]) != 64 ||
		tok.Annotations[ignitiontokens.NodePoolAnnotation] != ns+"/workers" {
		t.Errorf("token Secret %s: annotations %v, keys %v", tok.Name, tok.Annotations, keys(tok.Data))
	}
	// The nodes' ConfigMap and the guest's IDMS.
	wantMirrors(t, cpns, "guest-mirror.sample.lab/release")
	// The HostedCluster shows the control-plane-operator's ValidImageContentSources.
	envtest.Eventually(t, timeout, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), &cur); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(cur.Status.Conditions, hypershiftv1beta1.ValidImageContentSources); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("HostedCluster ValidImageContentSources = %+v", c)
		}
		return nil
	})

	// Rotation: the token changes, the old one stays as previous-token
	// until its expiry, then goes.
	first := string(tok.Data[ignitiontokens.TokenKey])
	envtest.Eventually(t, 20*time.Second, func() error {
		s := tokenSecret(t, cpns)
		if string(s.Data[ignitiontokens.TokenKey]) == first {
			return errors.New("not rotated yet")
		}
		if string(s.Data[ignitiontokens.PreviousTokenKey]) != first || s.Annotations[ignitiontokens.PreviousExpiresAnnotation] == "" {
			return fmt.Errorf("rotated without keeping the previous token: %v %v", keys(s.Data), s.Annotations)
		}
		return nil
	})
	envtest.Eventually(t, 20*time.Second, func() error {
		s := tokenSecret(t, cpns)
		if _, ok := s.Data[ignitiontokens.PreviousTokenKey]; ok && string(s.Data[ignitiontokens.PreviousTokenKey]) == first {
			return errors.New("previous token still kept")
		}
		return nil
	})

	// Restart mid-change: the process dies, imageContentSources changes
	// while nothing runs, a new pod starts and converges.
	pod.Kill()
	edit(t, hc, func(cur *hypershiftv1beta1.HostedCluster) {
		cur.Spec.ImageContentSources = []hypershiftv1beta1.ImageContentSource{{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"second-mirror.sample.lab/release"}}}
	})
	envtest.Eventually(t, timeout, func() error {
		var hcp hypershiftv1beta1.HostedControlPlane
		if err := env.Client.Get(ctx, hcpKey, &hcp); err != nil {
			return err
		}
		if len(hcp.Spec.ImageContentSources) != 1 || hcp.Spec.ImageContentSources[0].Mirrors[0] != "second-mirror.sample.lab/release" {
			return errors.New("the operator has not copied the change yet")
		}
		return nil
	})
	restarted := time.Now()
	if err := pod.Restart(); err != nil {
		t.Fatal(err)
	}
	wantMirrors(t, cpns, "second-mirror.sample.lab/release")
	t.Logf("after a restart mid-change the guest IDMS converged in %.1fs", time.Since(restarted).Seconds())

	checkLeastPrivilege(t, ns, cpns)

	// The ignition server, from its Deployment, serving what the
	// control-plane-operator wrote. The control-plane-operator stops first
	// so that its 4 s token rotation does not race the requests.
	pod.Stop()
	checkDeployedIgnitionServer(t, ignitionCase{cpns: cpns, reg: reg, reg2: reg2, pub: pub, idms: idms, itms: itms, kopts: kopts,
		nodeMirror: "second-mirror.sample.lab/release"})
}

// checkLeastPrivilege impersonates the components' ServiceAccounts: each
// may do what it needs where it needs it, and nothing the rules leave out.
func checkLeastPrivilege(t *testing.T, hcns, cpns string) {
	t.Helper()
	ctx := context.Background()
	as := func(sa string) client.Client {
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + cpns + ":" + sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + cpns, "system:authenticated"}}
		c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cpo, ign := as(hostedcluster.ControlPlaneOperatorName), as(hostedcluster.IgnitionServerName)
	secret := func(ns string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rbac-probe"}, Data: map[string][]byte{"k": []byte("v")}}
	}
	tests := []struct {
		name    string
		do      func() error
		allowed bool
	}{
		{"cpo lists Secrets of its namespace", func() error { return cpo.List(ctx, &corev1.SecretList{}, client.InNamespace(cpns)) }, true},
		{"cpo lists NodePools of the HostedCluster's namespace", func() error { return cpo.List(ctx, &hypershiftv1beta1.NodePoolList{}, client.InNamespace(hcns)) }, true},
		{"cpo gets a ConfigMap of the HostedCluster's namespace", func() error {
			return cpo.Get(ctx, client.ObjectKey{Namespace: hcns, Name: "workers-config"}, &corev1.ConfigMap{})
		}, true},
		{"cpo lists ConfigMaps of the HostedCluster's namespace", func() error { return cpo.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(hcns)) }, false},
		{"cpo lists Secrets of the HostedCluster's namespace", func() error { return cpo.List(ctx, &corev1.SecretList{}, client.InNamespace(hcns)) }, false},
		{"cpo writes a NodePool", func() error {
			return cpo.Create(ctx, &hypershiftv1beta1.NodePool{ObjectMeta: metav1.ObjectMeta{Namespace: hcns, Name: "rbac-probe"}, Spec: hypershiftv1beta1.NodePoolSpec{ClusterName: "x"}})
		}, false},
		// It keeps the OLM catalog Deployments of its own namespace, and
		// nothing anywhere else.
		{"cpo lists Deployments of its namespace", func() error { return cpo.List(ctx, &appsv1.DeploymentList{}, client.InNamespace(cpns)) }, true},
		{"cpo lists Deployments of the HostedCluster's namespace", func() error { return cpo.List(ctx, &appsv1.DeploymentList{}, client.InNamespace(hcns)) }, false},
		{"cpo edits the HostedControlPlane spec", func() error {
			var hcp hypershiftv1beta1.HostedControlPlane
			if err := cpo.Get(ctx, client.ObjectKey{Namespace: cpns, Name: "guest"}, &hcp); err != nil {
				return err
			}
			return cpo.Update(ctx, &hcp)
		}, false},
		{"ignition-server lists Secrets of its namespace", func() error { return ign.List(ctx, &corev1.SecretList{}, client.InNamespace(cpns)) }, true},
		{"ignition-server gets the HostedControlPlane", func() error {
			return ign.Get(ctx, client.ObjectKey{Namespace: cpns, Name: "guest"}, &hypershiftv1beta1.HostedControlPlane{})
		}, true},
		{"ignition-server writes a Secret", func() error { return ign.Create(ctx, secret(cpns)) }, false},
		{"ignition-server gets a Secret by name", func() error {
			return ign.Get(ctx, client.ObjectKey{Namespace: cpns, Name: "pull-secret"}, &corev1.Secret{})
		}, false},
		{"ignition-server lists NodePools", func() error { return ign.List(ctx, &hypershiftv1beta1.NodePoolList{}, client.InNamespace(hcns)) }, false},
		{"ignition-server lists Secrets of the HostedCluster's namespace", func() error { return ign.List(ctx, &corev1.SecretList{}, client.InNamespace(hcns)) }, false},
	}
	for _, tt := range tests {
		err := tt.do()
		if tt.allowed && err != nil {
			t.Errorf("%s: %v, want allowed", tt.name, err)
		}
		if !tt.allowed && !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want forbidden", tt.name, err)
		}
	}
}

func startOperator(t *testing.T, opts operator.Options) {
	t.Helper()
	opts.MetricsAddr, opts.ProbeAddr, opts.Kinds = "0", "0", &mirrorsets.All
	mgr, err := operator.New(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator: %v", err)
		}
	})
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
		if o.GetNamespace() == "" {
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), o) })
		}
	}
}

func get(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, hc *hypershiftv1beta1.HostedCluster, f func(*hypershiftv1beta1.HostedCluster)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hc), &cur); err != nil {
			return err
		}
		f(&cur)
		return env.Client.Update(context.Background(), &cur)
	}); err != nil {
		t.Fatal(err)
	}
}

func tokenSecret(t *testing.T, ns string) corev1.Secret {
	t.Helper()
	var list corev1.SecretList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{ignitiontokens.TokenLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d token Secrets, want 1", len(list.Items))
	}
	return list.Items[0]
}

// wantMirrors waits for the nodes' ConfigMap and the guest's IDMS to carry mirror.
func wantMirrors(t *testing.T, ns, mirror string) {
	t.Helper()
	envtest.Eventually(t, timeout, func() error {
		var cm corev1.ConfigMap
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: dataplane.DataPlaneConfigMap}, &cm); err != nil {
			return err
		}
		if !strings.Contains(cm.Data[dataplane.DataPlaneConfigKey], mirror) {
			return fmt.Errorf("nodes' ConfigMap lacks %s:\n%s", mirror, cm.Data[dataplane.DataPlaneConfigKey])
		}
		var idms configv1.ImageDigestMirrorSet
		if err := guest.Client.Get(context.Background(), client.ObjectKey{Name: dataplane.GuestMirrorSetName}, &idms); err != nil {
			return fmt.Errorf("guest IDMS: %w", err)
		}
		if len(idms.Spec.ImageDigestMirrors) != 1 || idms.Spec.ImageDigestMirrors[0].Mirrors[0] != mirror {
			return fmt.Errorf("guest IDMS = %+v", idms.Spec)
		}
		return nil
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
