package catalogs_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/operator-framework/operator-registry/pkg/api"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	testregistry "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/layer"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// timeout bounds each wait for a process.
const timeout = 60 * time.Second

// fbc is a small file-based catalog: packages with one channel of
// bundles, each bundle named <package>.v0.<i>.0.
func fbc(prefix string, packages, bundles int) []byte {
	var out []byte
	add := func(o map[string]any) {
		b, _ := json.Marshal(o)
		out = append(append(out, b...), '\n')
	}
	for p := range packages {
		pkg := fmt.Sprintf("%s-%d", prefix, p)
		add(map[string]any{"schema": "olm.package", "name": pkg, "defaultChannel": "stable"})
		var entries []map[string]any
		for b := range bundles {
			e := map[string]any{"name": fmt.Sprintf("%s.v0.%d.0", pkg, b)}
			if b > 0 {
				e["replaces"] = fmt.Sprintf("%s.v0.%d.0", pkg, b-1)
			}
			entries = append(entries, e)
		}
		add(map[string]any{"schema": "olm.channel", "package": pkg, "name": "stable", "entries": entries})
		for b := range bundles {
			add(map[string]any{"schema": "olm.bundle", "package": pkg, "name": fmt.Sprintf("%s.v0.%d.0", pkg, b),
				"image":      fmt.Sprintf("quay.io/example/%s-bundle:v0.%d.0", pkg, b),
				"properties": []map[string]any{{"type": "olm.package", "value": map[string]string{"packageName": pkg, "version": fmt.Sprintf("0.%d.0", b)}}}})
		}
	}
	return out
}

// catalogImage is an image with catalog under /configs, labelled as opm's
// catalog images are.
func catalogImage(t *testing.T, catalogJSON []byte) v1.Image {
	t.Helper()
	l, err := layer.New([]layer.File{{Name: "configs/", Dir: true}, {Name: "configs/catalog.json", Data: catalogJSON}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Labels = map[string]string{catalog.ConfigsLabel: "/configs"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

type listed struct{ packages, bundles []string }

func listCatalog(ctx context.Context, c api.RegistryClient) (listed, error) {
	var l listed
	ps, err := c.ListPackages(ctx, &api.ListPackageRequest{})
	if err != nil {
		return l, err
	}
	for {
		p, err := ps.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return l, err
		}
		l.packages = append(l.packages, p.Name)
	}
	bs, err := c.ListBundles(ctx, &api.ListBundlesRequest{})
	if err != nil {
		return l, err
	}
	for {
		b, err := bs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return l, err
		}
		l.bundles = append(l.bundles, b.CsvName)
	}
	slices.Sort(l.packages)
	slices.Sort(l.bundles)
	return l, nil
}

// want is what fbc(prefix, packages, bundles) lists.
func want(prefix string, packages, bundles int) listed {
	var l listed
	for p := range packages {
		l.packages = append(l.packages, fmt.Sprintf("%s-%d", prefix, p))
		for b := range bundles {
			l.bundles = append(l.bundles, fmt.Sprintf("%s-%d.v0.%d.0", prefix, p, b))
		}
	}
	slices.Sort(l.packages)
	slices.Sort(l.bundles)
	return l
}

// TestDeployedCatalogServers has the catalogs controller write the four
// catalog Deployments and runs each, exactly as written, with the kubelet
// stand-in: as ServiceAccount catalog-server with its token, the pull
// secret and trust bundle mounted. The catalogs' source registry (where the
// override annotation points registry.redhat.io/redhat) fails the test if
// it is ever dialled; the live hcpmirror-registries ConfigMap mirrors it to
// a TLS registry with basic auth on 127.0.0.1. Each server turns SERVING
// (the grpc probe's check) and lists the packages and bundles pushed; a
// new image pushed to the mirror's tag is served within the poll interval
// by the same process; four pins roll the Deployments to the pinned
// digests, which the new pods serve.
func TestDeployedCatalogServers(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	source := testregistry.Unreachable(t)
	mirror := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithBasicAuth("mirror-user", "s3cret"))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = mirror.CertPool
	pushOpts := []remote.Option{remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: "mirror-user", Password: "s3cret"})}
	push := func(ref string, img v1.Image) string {
		t.Helper()
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, img, pushOpts...); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	const minor = 18
	digests := map[string]string{}
	for i, c := range olmcatalogs.Catalogs {
		ref := mirror.Addr + "/redhat/" + c.Index + fmt.Sprintf(":v4.%d", minor)
		digests[c.Name] = push(ref, catalogImage(t, fbc(c.Name, 2+i, 3)))
	}

	// The namespace as the management operator keeps it: the live mirrors
	// (digest and tag mirrors, the source never contacted), the pull
	// secret, the trust bundle copy.
	entries := []mirrorset.Entry{{Source: source + "/redhat", Mirrors: []string{mirror.Addr + "/redhat"}, Policy: mirrorset.NeverContactSource}}
	mcfg, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "catalogs", Entries: entries}, {Kind: mirrorset.KindITMS, Name: "catalogs", Entries: entries}})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(mirror.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("mirror-user:s3cret"))
	for _, o := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: hostedcluster.RegistriesConfigMap},
			Data: map[string]string{hostedcluster.RegistriesConfKey: string(mcfg.RegistriesConf())}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, mirror.Addr, auth))}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: hostedcluster.TrustBundleConfigMap}, Data: map[string]string{hostedcluster.TrustBundleKey: string(caPEM)}},
		&hypershiftv1beta1.HostedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hc",
			Annotations: map[string]string{olmcatalogs.OverridesAnnotation: "registry.redhat.io/redhat=" + source + "/redhat"}},
			Spec: hypershiftv1beta1.HostedControlPlaneSpec{ReleaseImage: fmt.Sprintf("quay.io/openshift-release-dev/ocp-release:4.%d.3-x86_64", minor),
				PullSecret:            corev1.LocalObjectReference{Name: "pull-secret"},
				AdditionalTrustBundle: &corev1.LocalObjectReference{Name: hostedcluster.TrustBundleConfigMap}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	const poll = 2 * time.Second
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&catalogs.Reconciler{Client: mgr.GetClient(), Namespace: ns, Image: testImage, PollInterval: poll}).Setup(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitCondition(t, ns, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected)

	kopts := kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": kubelet.Binary(t)}}
	deployment := func(c olmcatalogs.Catalog) *appsv1.Deployment {
		var dep appsv1.Deployment
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.DeploymentName()}, &dep); err != nil {
			t.Fatal(err)
		}
		return &dep
	}
	type running struct {
		pod  *kubelet.Pod
		conn *grpc.ClientConn
	}
	// serve runs a catalog Deployment and waits for the probe's check.
	serve := func(c olmcatalogs.Catalog) running {
		t.Helper()
		dep := deployment(c)
		started := time.Now()
		pod := kubelet.Run(t, kopts, dep)
		// The readiness probe as written (gRPC health Check on 50051), run
		// by the stand-in's prober.
		envtest.Eventually(t, timeout, func() error {
			if exited, err := pod.Exited(); exited {
				t.Fatalf("%s exited (%v):\n%s", dep.Name, err, pod.Logs())
			}
			return pod.Ready(ctx)
		})
		grpcPort := dep.Spec.Template.Spec.Containers[0].Ports[0]
		if grpcPort.Name != "grpc" || grpcPort.ContainerPort != catalogs.Port {
			t.Fatalf("%s: first port %+v, want grpc 50051", dep.Name, grpcPort)
		}
		conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", pod.Port(grpcPort.ContainerPort)), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		t.Logf("%s: SERVING %.2fs after the process started", dep.Name, time.Since(started).Seconds())
		return running{pod: pod, conn: conn}
	}
	pods := map[string]running{}
	for i, c := range olmcatalogs.Catalogs {
		r := serve(c)
		pods[c.Name] = r
		got, err := listCatalog(ctx, api.NewRegistryClient(r.conn))
		if err != nil {
			t.Fatal(err)
		}
		if w := want(c.Name, 2+i, 3); !slices.Equal(got.packages, w.packages) || !slices.Equal(got.bundles, w.bundles) {
			t.Errorf("%s serves %v, want %v", c.Name, got, w)
		}
	}

	// The mirror's tag moves: the same process serves the new content
	// within the poll interval (and the pull that takes).
	rh := olmcatalogs.Catalogs[3] // redhat-operators
	if rh.Name != "redhat-operators" {
		t.Fatalf("catalog order changed: %s", rh.Name)
	}
	moved := push(mirror.Addr+"/redhat/"+rh.Index+fmt.Sprintf(":v4.%d", minor), catalogImage(t, fbc("moved", 1, 2)))
	pushed := time.Now()
	rc := api.NewRegistryClient(pods[rh.Name].conn)
	envtest.Eventually(t, 3*poll+10*time.Second, func() error {
		got, err := listCatalog(ctx, rc)
		if err != nil {
			return err
		}
		if w := want("moved", 1, 2); !slices.Equal(got.packages, w.packages) {
			return fmt.Errorf("still %v", got.packages)
		}
		return nil
	})
	t.Logf("%s: the moved tag served %.2fs after the push (poll interval %s), same process", rh.Name, time.Since(pushed).Seconds(), poll)
	if exited, _ := pods[rh.Name].pod.Exited(); exited {
		t.Fatalf("the server restarted")
	}
	if !strings.Contains(pods[rh.Name].pod.Logs(), moved) {
		t.Errorf("the log does not name the moved digest %s:\n%s", moved, pods[rh.Name].pod.Logs())
	}

	// Pins roll the Deployments: redhat-operators back to its first image.
	pins := map[string]string{olmcatalogs.OverridesAnnotation: "registry.redhat.io/redhat=" + source + "/redhat"}
	for _, c := range olmcatalogs.Catalogs {
		pins[c.PinAnnotation()] = source + "/redhat/" + c.Index + "@" + digests[c.Name]
	}
	setAnnotations(t, ns, pins)
	before := deployment(rh).Generation
	envtest.Eventually(t, timeout, func() error {
		d := deployment(rh)
		if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--catalog-image="+pins[rh.PinAnnotation()]) || d.Generation == before {
			return fmt.Errorf("deployment %s not rolled to the pin: generation %d, args %v", d.Name, d.Generation, d.Spec.Template.Spec.Containers[0].Args)
		}
		return nil
	})
	pods[rh.Name].pod.Stop()
	r := serve(rh)
	got, err := listCatalog(ctx, api.NewRegistryClient(r.conn))
	if err != nil {
		t.Fatal(err)
	}
	if w := want(rh.Name, 5, 3); !slices.Equal(got.packages, w.packages) {
		t.Errorf("the pinned %s serves %v, want %v", rh.Name, got.packages, w.packages)
	}
	for _, p := range pods {
		if strings.Contains(p.pod.Logs(), "s3cret") || strings.Contains(p.pod.Logs(), auth) {
			t.Errorf("a server's log holds the pull secret")
		}
	}
}
