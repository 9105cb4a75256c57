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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/cli"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
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
