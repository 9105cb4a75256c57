// Package demo runs hcpmirror's main job end to end on an embedded default:
// a private mirror registry on 127.0.0.1 holding a mirrored OpenShift-like
// release, mirror sets pointing at it with NeverContactSource (the sources,
// quay.io and friends, are unreachable: that is what disconnected means),
// and a local kube-apiserver with the operator propagating the sets into a
// hosted control plane. Nothing leaves the machine.
package demo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/api/install"
	"github.com/hcpmirror/hcpmirror/config/crd"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// Options configure the demo.
type Options struct {
	// Out receives the narration.
	Out io.Writer
	// Assets is the folder with kube-apiserver and etcd (KUBEBUILDER_ASSETS).
	Assets string
	// Components in the synthetic release (a real 4.x payload has ~190).
	Components int
	// Dir receives the mirror sets written during the demo. Empty means a
	// new temporary folder, kept when the demo succeeds (its narration
	// names the files) and removed when it fails.
	Dir string
	// Binary is the hcpmirror binary the kubelet stand-in runs for the
	// operator's image (the control-plane-operator Deployment). Required.
	Binary string
}

// assetNames are the binaries the demo's management cluster runs.
var assetNames = []string{"kube-apiserver", "etcd"}

// CheckAssets reports whether dir holds kube-apiserver and etcd as
// executable files, so that the demo fails before it starts anything rather
// than after mirroring a release.
func CheckAssets(dir string) error {
	if dir == "" {
		return errors.New("no kube-apiserver/etcd: set KUBEBUILDER_ASSETS or --assets (make demo builds them with hack/envtest.sh)")
	}
	var errs []error
	for _, n := range assetNames {
		p := filepath.Join(dir, n)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		case !fi.Mode().IsRegular():
			errs = append(errs, fmt.Errorf("%s: %s is not a regular file", n, p))
		case fi.Mode().Perm()&0o111 == 0:
			errs = append(errs, fmt.Errorf("%s: %s is not executable (mode %v)", n, p, fi.Mode().Perm()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kube-apiserver and etcd in %s (make demo builds them with hack/envtest.sh): %w", dir, err)
	}
	return nil
}

const (
	demoUser     = "mirror-admin"
	demoPassword = "demo-only-password"
)

type narrator struct {
	w    io.Writer
	step int
}

func (n *narrator) section(title string) {
	n.step++
	fmt.Fprintf(n.w, "\n== %d. %s\n", n.step, title)
}

func (n *narrator) say(format string, args ...any) { fmt.Fprintf(n.w, "   "+format+"\n", args...) }

// Run runs the demo; it stops everything it started before returning.
func Run(ctx context.Context, o Options) (err error) {
	if err := CheckAssets(o.Assets); err != nil {
		return err
	}
	if fi, err := os.Stat(o.Binary); o.Binary == "" || err != nil || fi.IsDir() {
		return fmt.Errorf("the hcpmirror binary %q, which runs the control-plane-operator, is missing: build it (make build) or give --hcpmirror", o.Binary)
	}
	if o.Components <= 0 {
		o.Components = synthrelease.DefaultComponentCount
	}
	if o.Dir == "" {
		dir, mkErr := os.MkdirTemp("", "hcpmirror-demo-")
		if mkErr != nil {
			return mkErr
		}
		o.Dir = dir
		defer func() {
			if err != nil {
				_ = os.RemoveAll(dir)
			}
		}()
	}
	return run(ctx, o)
}

// run is the demo proper, on checked options.
func run(ctx context.Context, o Options) error {
	n := &narrator{w: o.Out}

	n.section("A private mirror registry (TLS, basic auth) on 127.0.0.1")
	reg, err := labregistry.Listen("127.0.0.1:0", labregistry.WithTLS(), labregistry.WithBasicAuth(demoUser, demoPassword))
	if err != nil {
		return err
	}
	defer reg.Close()
	n.say("registry %s, CA %s, user %s", reg.Addr, reg.CAFile, demoUser)

	n.section(fmt.Sprintf("Mirroring an OpenShift release (%d components) into it", o.Components))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = reg.CertPool
	start := time.Now()
	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{
		Destination: reg.Addr, Components: o.Components,
		RemoteOptions: []remote.Option{remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: demoUser, Password: demoPassword})},
	})
	if err != nil {
		return fmt.Errorf("publishing the release: %w", err)
	}
	n.say("pushed %d images in %s", len(pub.Pushed), time.Since(start).Round(time.Millisecond))
	n.say("release %s is %s", pub.ReleaseTag, pub.Release)

	n.section("Mirror sets for the management cluster (the sources are never contacted)")
	idms, itms := pub.MirrorSets("release", configv1.NeverContactSource)
	setsYAML, err := pub.MirrorSetsYAML("release", configv1.NeverContactSource)
	if err != nil {
		return err
	}
	setsFile := filepath.Join(o.Dir, "mirrorsets.yaml")
	if err := atomicfile.WriteFile(setsFile, setsYAML, atomicfile.DefaultPerm); err != nil {
		return err
	}
	sets := []mirrorset.Set{mirrorset.FromImageDigestMirrorSet(idms), mirrorset.FromImageTagMirrorSet(itms)}
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		return err
	}
	n.say("written to %s (try: hcpmirror resolve -f %s REF)", setsFile, setsFile)
	component := pub.Components["cluster-version-operator"]
	for _, ref := range []string{pub.ReleaseTag, component} {
		res, err := cfg.Resolve(ref)
		if err != nil {
			return err
		}
		n.say("%s", ref)
		for i, p := range res.PullSources {
			n.say("  %d. %s", i+1, p.Reference)
		}
		if res.SourceBlocked {
			n.say("  (source blocked: NeverContactSource)")
		}
	}

	auth := base64.StdEncoding.EncodeToString([]byte(demoUser + ":" + demoPassword))
	pullSecret := []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Addr, auth))
	provider, err := releaseinfo.New(releaseinfo.WithRegistryOptions(registry.WithoutDefaultAuthFile(), registry.WithCAFile(reg.CAFile)), releaseinfo.RequireBootImages())
	if err != nil {
		return err
	}
	defer provider.Close()

	n.section("Is every image of the release reachable through the mirrors?")
	before := reg.Requests()
	start = time.Now()
	rep, err := provider.Verify(ctx, cfg, pub.ReleaseTag, pullSecret, releaseinfo.VerifyOptions{Concurrency: 16})
	if err != nil {
		return err
	}
	n.say("%d images checked in %s: %d missing", len(rep.Checks), time.Since(start).Round(time.Millisecond), len(rep.Missing()))
	if len(rep.Missing()) > 0 {
		return fmt.Errorf("%d images of the release are not reachable through the mirrors", len(rep.Missing()))
	}
	for _, chk := range rep.Checks {
		for _, p := range chk.PullSources {
			if !strings.HasPrefix(p, reg.Addr+"/") {
				return fmt.Errorf("%s would be pulled from %s, outside the private registry", chk.Image, p)
			}
		}
	}
	n.say("%d requests, all to %s: every pull source of every image is the private registry (quay.io is blocked)", reg.Requests()-before, reg.Addr)

	n.section("A management cluster: kube-apiserver + etcd, with the operator")
	env, c, err := startAPIServer(o.Assets)
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	for _, obj := range []client.Object{idms, itms} {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("applying %s: %w", obj.GetName(), err)
		}
	}
	mgr, err := operator.New(env.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", Kinds: &mirrorsets.All, Releases: operator.Releases(provider), Image: DemoImage})
	if err != nil {
		return err
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() { stop(); <-done }()
	n.say("API server %s; mirror sets applied; operator running", env.Config.Host)

	n.section("A HostedCluster in the disconnected data center")
	// The nodes need the same mirrors: derived as `hcpmirror sync-ics` does.
	ics := cfg.ImageContentSources()
	caPEM, err := os.ReadFile(reg.CAFile)
	if err != nil {
		return err
	}
	hc, err := createHostedCluster(ctx, c, pub.ReleaseTag, pullSecret, caPEM, ics.Entries)
	if err != nil {
		return err
	}
	n.say("clusters/%s, release %s, pull secret with the mirror's credentials only,", hc.Name, pub.ReleaseTag)
	n.say("imageContentSources for the nodes derived from the management sets (hcpmirror sync-ics)")
	start = time.Now()
	if err := waitFor(ctx, 60*time.Second, func() error {
		return conditionsTrue(ctx, c, client.ObjectKeyFromObject(hc), hypershiftv1beta1.ValidMirrorSets, hypershiftv1beta1.ReleaseImageResolved, hypershiftv1beta1.RegistryOverridesPropagated)
	}); err != nil {
		return err
	}
	n.say("propagated in %s:", time.Since(start).Round(time.Millisecond))
	if err := printConditions(ctx, c, n, client.ObjectKeyFromObject(hc)); err != nil {
		return err
	}
	status, err := operator.Status(ctx, c, mirrorsets.All, nil, nil)
	if err != nil {
		return err
	}
	writeIndented(o.Out, status)

	stopControlPlane, err := controlPlaneSection(ctx, n, o, env, c, hc, reg)
	if err != nil {
		return err
	}
	defer stopControlPlane()
	push := []remote.Option{remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: demoUser, Password: demoPassword})}
	if err := catalogsSection(ctx, n, o, env, c, hc, reg, push); err != nil {
		return err
	}

	n.section("A live change: a second mirror is added to the IDMS")
	var cur configv1.ImageDigestMirrorSet
	if err := c.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
		return err
	}
	backup := reg.Addr + "/backup/openshift/release"
	for i := range cur.Spec.ImageDigestMirrors {
		if cur.Spec.ImageDigestMirrors[i].Source == release.CanonicalComponentRepository {
			cur.Spec.ImageDigestMirrors[i].Mirrors = append(cur.Spec.ImageDigestMirrors[i].Mirrors, backup)
		}
	}
	start = time.Now()
	if err := c.Update(ctx, &cur); err != nil {
		return err
	}
	if err := waitFor(ctx, 30*time.Second, func() error { return allCarry(ctx, c, hostedcluster.ControlPlaneNamespace(hc), backup) }); err != nil {
		return err
	}
	n.say("%s after the edit, every deployment of %s carries the new mirror %s", time.Since(start).Round(time.Millisecond), hostedcluster.ControlPlaneNamespace(hc), backup)
	n.say("(the operator was not restarted; deployments whose carriers changed roll out as usual)")
	var d appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: hostedcluster.ControlPlaneNamespace(hc), Name: hostedcluster.IgnitionServerName}, &d); err != nil {
		return err
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == hostedcluster.EnvName {
			n.say("ignition-server %s=%s", e.Name, e.Value)
		}
	}
	status, err = operator.Status(ctx, c, mirrorsets.All, nil, nil)
	if err != nil {
		return err
	}
	writeIndented(o.Out, status)
	if status.Drift() {
		return errors.New("status reports drift after the change")
	}
	fmt.Fprintln(o.Out, "\nDone: every image resolved to the private registry; no pull source outside it existed to contact.")
	return nil
}

func startAPIServer(assets string) (*ctrlenvtest.Environment, client.Client, error) {
	defs, err := crd.Definitions()
	if err != nil {
		return nil, nil, err
	}
	scheme := install.NewScheme()
	env := &ctrlenvtest.Environment{BinaryAssetsDirectory: assets, CRDs: defs, ErrorIfCRDPathMissing: true, Scheme: scheme}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	return env, c, nil
}

func createHostedCluster(ctx context.Context, c client.Client, image string, pullSecret, caPEM []byte, ics []mirrorset.Entry) (*hypershiftv1beta1.HostedCluster, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "clusters"}}
	if err := c.Create(ctx, ns); err != nil {
		return nil, err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "clusters", Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: pullSecret}}
	if err := c.Create(ctx, secret); err != nil {
		return nil, err
	}
	// The mirror's CA, trusted by the control-plane components.
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "clusters", Name: "mirror-ca"}, Data: map[string]string{hostedcluster.TrustBundleKey: string(caPEM)}}
	if err := c.Create(ctx, bundle); err != nil {
		return nil, err
	}
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "clusters", Name: "demo"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: image}, PullSecret: corev1.LocalObjectReference{Name: secret.Name},
			AdditionalTrustBundle: &corev1.LocalObjectReference{Name: bundle.Name}}}
	for _, e := range ics {
		hc.Spec.ImageContentSources = append(hc.Spec.ImageContentSources, hypershiftv1beta1.ImageContentSource{Source: e.Source, Mirrors: e.Mirrors})
	}
	return hc, c.Create(ctx, hc)
}

func conditionsTrue(ctx context.Context, c client.Client, key client.ObjectKey, types ...string) error {
	var hc hypershiftv1beta1.HostedCluster
	if err := c.Get(ctx, key, &hc); err != nil {
		return err
	}
	for _, t := range types {
		cond := meta.FindStatusCondition(hc.Status.Conditions, t)
		if cond == nil || cond.Status != metav1.ConditionTrue {
			return fmt.Errorf("condition %s not true yet: %+v", t, cond)
		}
	}
	return nil
}

func printConditions(ctx context.Context, c client.Client, n *narrator, key client.ObjectKey) error {
	var hc hypershiftv1beta1.HostedCluster
	if err := c.Get(ctx, key, &hc); err != nil {
		return err
	}
	conds := append([]metav1.Condition(nil), hc.Status.Conditions...)
	sort.Slice(conds, func(i, j int) bool { return conds[i].Type < conds[j].Type })
	for _, cond := range conds {
		n.say("  %s=%s: %s", cond.Type, cond.Status, cond.Message)
	}
	return nil
}

func allCarry(ctx context.Context, c client.Client, ns, mirror string) error {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, d := range list.Items {
		for _, cc := range hostedcluster.FindCarriers(&d) {
			if cc.Env != nil && !strings.Contains(*cc.Env, mirror) {
				return fmt.Errorf("%s/%s not updated yet", d.Name, cc.Container)
			}
		}
	}
	return nil
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeIndented prints the status report under the narration.
func writeIndented(w io.Writer, rep *operator.StatusReport) {
	var b strings.Builder
	rep.WriteText(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(w, "   %s\n", line)
	}
}
