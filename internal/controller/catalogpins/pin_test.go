package catalogpins_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/cli"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogpins"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
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

// push writes a fresh random image to ref and returns its digest.
func push(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

// TestPinFollowsTheMirror pins through a local mirror (the source is never
// contacted), falls back a minor for a missing tag, applies, and with
// --follow re-pins when the mirror's tag moves, writing nothing while it
// does not.
func TestPinFollowsTheMirror(t *testing.T) {
	ctx := context.Background()
	reg := testreg.Start(t)
	digests := map[string]string{}
	for _, c := range olmcatalogs.Catalogs {
		tag := "v4.18"
		if c.Name == "redhat-marketplace" {
			tag = "v4.17" // the tag fallback
		}
		digests[c.Name] = push(t, reg.Addr+"/rh/"+c.Index+":"+tag)
	}
	dir := t.TempDir()
	sets := filepath.Join(dir, "itms.yaml")
	if err := os.WriteFile(sets, []byte(`apiVersion: config.openshift.io/v1
kind: ImageTagMirrorSet
metadata:
  name: catalogs
spec:
  imageTagMirrors:
  - source: registry.redhat.io/redhat
    mirrors:
    - `+reg.Addr+`/rh
    mirrorSourcePolicy: NeverContactSource
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	hc := &hypershiftv1beta1.HostedCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "prod"},
		Spec: hypershiftv1beta1.HostedClusterSpec{
			Release: hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"},
		},
	}
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	kubeconfig := env.Kubeconfig(t)
	args := []string{"catalogs", "pin", "--hostedcluster", ns + "/prod", "-f", sets, "--insecure-registry", reg.Addr, "--kubeconfig", kubeconfig}

	// Print only.
	var out, errOut bytes.Buffer
	if code := cli.Execute(ctx, args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, c := range olmcatalogs.Catalogs {
		want := c.PinAnnotation() + "=" + reg.Addr + "/rh/" + c.Index + "@" + digests[c.Name]
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	get := func() *hypershiftv1beta1.HostedCluster {
		var h hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), &h); err != nil {
			t.Fatal(err)
		}
		return &h
	}
	if len(get().Annotations) != 0 {
		t.Fatal("printing wrote annotations")
	}

	// Follow with --apply: the first round writes, quiet rounds do not, a
	// moved tag is re-pinned.
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	var fout, ferr bytes.Buffer
	go func() {
		done <- cli.Execute(fctx, append(args, "--apply", "--follow", "--interval", "100ms", "-o", "json"), strings.NewReader(""), &fout, &ferr)
	}()
	pinOf := func(h *hypershiftv1beta1.HostedCluster) string {
		return h.Annotations["hypershift.openshift.io/redhat-operators-catalog-image"]
	}
	envtest.Eventually(t, 20*time.Second, func() error {
		if !strings.HasSuffix(pinOf(get()), digests["redhat-operators"]) {
			return fmt.Errorf("pin %q", pinOf(get()))
		}
		return nil
	})
	rv := get().ResourceVersion
	time.Sleep(500 * time.Millisecond) // several quiet rounds
	if now := get().ResourceVersion; now != rv {
		t.Errorf("quiet rounds rewrote the HostedCluster (%s -> %s)", rv, now)
	}
	moved := push(t, reg.Addr+"/rh/redhat-operator-index:v4.18")
	envtest.Eventually(t, 20*time.Second, func() error {
		if got := pinOf(get()); got != reg.Addr+"/rh/redhat-operator-index@"+moved {
			return fmt.Errorf("pin %q, want the moved digest %s", got, moved)
		}
		return nil
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("--follow did not stop when its context ended")
	}
	// The pins pass the all-or-none digest rules the catalogs controller applies.
	if _, err := olmcatalogs.Pins(get().Annotations); err != nil {
		t.Errorf("written pins are not valid pins: %v", err)
	}
	var mf metav1.ManagedFieldsEntry
	for _, m := range get().ManagedFields {
		if m.Manager == "hcpmirror-catalog-pins" {
			mf = m
		}
	}
	if mf.Manager == "" {
		t.Error("pins not written under field manager hcpmirror-catalog-pins")
	}
}

// TestPinAllOrNone: a catalog whose tag is nowhere (not even three minors
// back) fails the whole pin, naming it, and nothing is written.
func TestPinAllOrNone(t *testing.T) {
	ctx := context.Background()
	reg := testreg.Start(t)
	for _, c := range olmcatalogs.Catalogs[:3] {
		push(t, reg.Addr+"/rh/"+c.Index+":v4.18")
	}
	ns := env.Namespace(t)
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "prod",
		Annotations: map[string]string{olmcatalogs.OverridesAnnotation: "registry.redhat.io/redhat=" + reg.Addr + "/rh"}}}
	hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64"
	hc.Spec.PullSecret.Name = "pull-secret"
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	// No -f: the cluster's own mirror sets (none here); the override
	// annotation alone sends the tags to the local registry.
	var out, errOut bytes.Buffer
	code := cli.Execute(ctx, []string{"catalogs", "pin", "--hostedcluster", ns + "/prod", "--apply", "--insecure-registry", reg.Addr, "--kubeconfig", env.Kubeconfig(t)},
		strings.NewReader(""), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "catalog redhat-operators") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	var h hypershiftv1beta1.HostedCluster
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Annotations) != 1 {
		t.Errorf("a failed pin wrote annotations: %v", h.Annotations)
	}
}

// TestRunner is the operator's --pin-catalogs round: opted-in clusters
// only, through the management cluster's own mirror sets and the
// HostedCluster's pull secret; a moved tag is re-pinned on the next round.
func TestRunner(t *testing.T) {
	ctx := context.Background()
	reg := testreg.Start(t)
	for _, c := range olmcatalogs.Catalogs {
		push(t, reg.Addr+"/rh/"+c.Index+":v4.16")
	}
	itms := &configv1.ImageTagMirrorSet{ObjectMeta: metav1.ObjectMeta{Name: "catalogs-runner"},
		Spec: configv1.ImageTagMirrorSetSpec{ImageTagMirrors: []configv1.ImageTagMirrors{{
			Source: "registry.redhat.io/redhat", Mirrors: []string{reg.Addr + "/rh"}, MirrorSourcePolicy: configv1.NeverContactSource}}}}
	if err := env.Client.Create(ctx, itms); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, itms) })
	ns := env.Namespace(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, optIn bool) *hypershiftv1beta1.HostedCluster {
		hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if optIn {
			hc.Annotations = map[string]string{catalogpins.OptInAnnotation: "true"}
		}
		hc.Spec.Release.Image = "quay.io/openshift-release-dev/ocp-release:4.16.1-x86_64"
		hc.Spec.PullSecret.Name = "pull-secret"
		if err := env.Client.Create(ctx, hc); err != nil {
			t.Fatal(err)
		}
		return hc
	}
	in, out := mk("in", true), mk("out", false)
	// As the operator's service account with `render --pin-catalogs` RBAC.
	opNS := env.Namespace(t)
	for _, obj := range operator.Objects(operator.InstallOptions{Namespace: opNS, Image: "hcpmirror:test", PinCatalogs: true}) {
		switch obj.(type) {
		case *corev1.Namespace, *appsv1.Deployment:
			continue
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + opNS + ":" + operator.ServiceAccountName,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + opNS, "system:authenticated"}}
	sa, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	r := &catalogpins.Runner{Client: sa, APIReader: sa, Interval: time.Minute,
		Sets:     &mirrorsets.Reader{Client: sa, Kinds: mirrorsets.All},
		Registry: []registry.Option{registry.WithInsecureRegistry(reg.Addr)}}
	get := func(hc *hypershiftv1beta1.HostedCluster) map[string]string {
		var h hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), &h); err != nil {
			t.Fatal(err)
		}
		return h.Annotations
	}
	if err := r.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := olmcatalogs.Pins(get(in)); err != nil || len(get(in)) != 5 {
		t.Fatalf("opted-in cluster: %v %v", get(in), err)
	}
	if len(get(out)) != 0 {
		t.Errorf("a cluster that did not opt in was pinned: %v", get(out))
	}
	moved := push(t, reg.Addr+"/rh/community-operator-index:v4.16")
	if err := r.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get(in)["hypershift.openshift.io/community-operators-catalog-image"]; got != reg.Addr+"/rh/community-operator-index@"+moved {
		t.Errorf("after the tag moved: %q, want the new digest %s", got, moved)
	}
}
