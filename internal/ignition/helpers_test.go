package ignition_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/ignition"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	pkgignition "github.com/hcpmirror/hcpmirror/pkg/ignition"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

var env *envtest.Environment

func TestMain(m *testing.M) {
	var err error
	env, err = envtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// fixture is one hosted control plane namespace with a release in two
// mirrors, the source played by an address that fails the test if dialled.
type fixture struct {
	t          *testing.T
	ns         string
	source     string
	mirrorA    *testreg.Registry
	mirrorB    *testreg.Registry
	release    string // canonical digest reference under source
	mco        string // canonical MCO reference
	token      string
	pullSecret []byte
	trust      string
	certs      *certs
	// base are the registries' request counts per path after publishing,
	// so that pushes are not counted as pulls.
	base map[*testreg.Registry]map[string]int
}

const testToken = "tok-3f9a1c2e4b5d6a7f8e9d0c1b2a3f4e5d"

// newFixture publishes the release and creates the objects the
// control-plane-operator and the management operator write, with
// hcpmirror-registries pointing at mirror A, NeverContactSource.
func newFixture(t *testing.T, withConfigMap bool) *fixture {
	t.Helper()
	f := &fixture{t: t, ns: env.Namespace(t), source: testreg.Unreachable(t), token: testToken}
	f.mirrorA = testreg.Start(t, testreg.WithTLS())
	f.mirrorB = testreg.Start(t, testreg.WithTLS())
	var pub *synthrelease.Published
	for _, reg := range []*testreg.Registry{f.mirrorA, f.mirrorB} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: reg.CertPool}}
		t.Cleanup(tr.CloseIdleConnections)
		p, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
			Destination: reg.Addr,
			Components:  20,
			EditManifests: func(files map[string][]byte) error {
				for _, name := range []string{release.ImageReferencesFile, release.BootImagesFile} {
					if b, ok := files[name]; ok {
						files[name] = []byte(f.rename(string(b)))
					}
				}
				return nil
			},
			RemoteOptions: []remote.Option{remote.WithTransport(tr)},
		})
		if err != nil {
			t.Fatalf("publishing to %s: %v", reg.Addr, err)
		}
		pub = p
	}
	f.base = map[*testreg.Registry]map[string]int{f.mirrorA: f.mirrorA.RequestsByPath(), f.mirrorB: f.mirrorB.RequestsByPath()}
	f.release = f.rename(pub.Release)
	f.mco = f.rename(pub.Components[ignition.MCOComponent])
	f.pullSecret = fmt.Appendf(nil, `{"auths":{%q:{"auth":"dXNlcjpwYXNz"}}}`, f.mirrorA.Addr)
	f.trust = "-----BEGIN CERTIFICATE-----\nTUlSUk9SLUNBLUZJWFRVUkU=\n-----END CERTIFICATE-----\n"
	f.certs = newCerts(t)

	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ignition.PullSecretName, Namespace: f.ns},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: f.pullSecret}})
	f.create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "user-ca-bundle", Namespace: f.ns},
		Data: map[string]string{ignition.TrustBundleKey: f.trust}})
	f.create(&hypershiftv1beta1.HostedControlPlane{
		ObjectMeta: metav1.ObjectMeta{Name: "hc", Namespace: f.ns},
		Spec: hypershiftv1beta1.HostedControlPlaneSpec{
			ReleaseImage: f.release,
			PullSecret:   corev1.LocalObjectReference{Name: ignition.PullSecretName},
			ImageContentSources: []hypershiftv1beta1.ImageContentSource{
				{Source: f.source + "/openshift-release-dev", Mirrors: []string{"node-mirror.example.internal:5000/ocp"}},
			},
			AdditionalTrustBundle: &corev1.LocalObjectReference{Name: "user-ca-bundle"},
		},
	})
	f.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "token-np1-0a1b2c3d", Namespace: f.ns,
			Labels:      map[string]string{ignition.TokenLabel: "true"},
			Annotations: map[string]string{ignition.NodePoolAnnotation: "clusters/np1"}},
		Data: map[string][]byte{
			ignition.TokenKey:   []byte(f.token),
			ignition.ReleaseKey: []byte(f.release),
			ignition.ConfigKey:  []byte(machineConfigs),
		},
	})
	if withConfigMap {
		f.create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: hostedcluster.RegistriesConfigMap, Namespace: f.ns},
			Data: map[string]string{hostedcluster.RegistriesConfKey: f.registriesConf(f.mirrorA)}})
	}
	return f
}

// machineConfigs is a NodePool's config: one MachineConfig, and a
// document of another kind that is skipped.
const machineConfigs = `apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfig
metadata:
  name: 50-np1-motd
spec:
  config:
    ignition:
      version: 3.2.0
    passwd:
      users:
      - name: core
        sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture np1"]
    storage:
      files:
      - path: /etc/motd
        mode: 420
        overwrite: true
        contents:
          source: data:,hello%20from%20np1%0A
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-machine-config
`

func (f *fixture) rename(s string) string {
	return strings.ReplaceAll(s, "quay.io/openshift-release-dev/", f.source+"/openshift-release-dev/")
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

// registriesConf is the control-plane registries.conf sending the
// release's repositories to mirror, the source NeverContactSource.
func (f *fixture) registriesConf(mirror *testreg.Registry) string {
	f.t.Helper()
	var entries []mirrorset.Entry
	for _, e := range []struct{ src, repo string }{
		{"/openshift-release-dev/ocp-release", synthrelease.DefaultReleaseRepo},
		{"/openshift-release-dev/ocp-v4.0-art-dev", synthrelease.DefaultComponentsRepo},
	} {
		entries = append(entries, mirrorset.Entry{Source: f.source + e.src, Mirrors: []string{mirror.Addr + "/" + e.repo}, Policy: mirrorset.NeverContactSource})
	}
	cfg, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "mirror", Entries: entries}})
	if err != nil {
		f.t.Fatal(err)
	}
	return string(cfg.RegistriesConf())
}

// setRegistries rewrites hcpmirror-registries to point at mirror.
func (f *fixture) setRegistries(mirror *testreg.Registry) {
	f.t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: hostedcluster.RegistriesConfigMap}, &cm); err != nil {
		f.t.Fatal(err)
	}
	cm.Data[hostedcluster.RegistriesConfKey] = f.registriesConf(mirror)
	if err := env.Client.Update(context.Background(), &cm); err != nil {
		f.t.Fatal(err)
	}
}

// registryOptions trust both mirrors.
func (f *fixture) registryOptions() []registry.Option {
	return []registry.Option{registry.WithCAFile(f.mirrorA.CAFile), registry.WithCAFile(f.mirrorB.CAFile)}
}

// running is a server started in-process by start.
type running struct {
	https, metrics string
	stop           func()
}

// start runs a Server on 127.0.0.1 until the test ends (or stop).
func (f *fixture) start(opts ignition.Options) *running {
	f.t.Helper()
	return f.startAs(env.Config, opts)
}

// startAs is start with the server's client configuration cfg.
func (f *fixture) startAs(cfg *rest.Config, opts ignition.Options) *running {
	f.t.Helper()
	opts.Namespace = f.ns
	opts.RegistryOptions = append(opts.RegistryOptions, f.registryOptions()...)
	opts.Log = testr.New(f.t)
	s, err := ignition.New(cfg, opts)
	if err != nil {
		f.t.Fatalf("New() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ctx, ignition.ServeOptions{Listen: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0",
			CertFile: f.certs.certFile, KeyFile: f.certs.keyFile,
			Listening: func(h, m net.Addr) { addrs <- [2]net.Addr{h, m} }})
	}()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		cancel()
		f.t.Fatalf("Serve() = %v", err)
	}
	r := &running{https: "https://" + a[0].String(), metrics: "http://" + a[1].String()}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Serve() = %v", err)
		}
		s.Close()
	}
	f.t.Cleanup(r.stop)
	waitReady(f.t, r.metrics)
	return r
}

func waitReady(t *testing.T, metricsURL string) {
	t.Helper()
	envtest.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(metricsURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
}

// fetch asks url's /ignition with token (none when empty); it returns the
// status and body. A fresh client per call, trusting pool, so every call
// makes a new TLS handshake.
func fetch(t *testing.T, pool *x509.CertPool, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 60 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// decode parses a payload and returns its files' contents by path.
func decode(t *testing.T, b []byte) (*pkgignition.Config, map[string]string) {
	t.Helper()
	var cfg pkgignition.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	files := map[string]string{}
	if cfg.Storage != nil {
		for _, f := range cfg.Storage.Files {
			data, err := pkgignition.DecodeDataURL(f.Contents.Source)
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			files[f.Path] = string(data)
		}
	}
	return &cfg, files
}

// pulls counts the requests r got since publishing for paths starting
// with prefix ("/v2/" for all registry requests).
func (f *fixture) pulls(r *testreg.Registry, prefix string) int {
	n := 0
	for p, c := range r.RequestsByPath() {
		if strings.HasPrefix(p, prefix) {
			n += c - f.base[r][p]
		}
	}
	return n
}

// manifestPulls counts r's manifest requests for repo since publishing.
func (f *fixture) manifestPulls(r *testreg.Registry, repo string) int {
	return f.pulls(r, "/v2/"+repo+"/manifests/")
}

// certs is a CA and a serving certificate for 127.0.0.1 and localhost,
// written where the server reads them.
type certs struct {
	dir, certFile, keyFile string
	pool                   *x509.CertPool
}

func newCerts(t *testing.T) *certs {
	t.Helper()
	dir := t.TempDir()
	c := &certs{dir: dir, certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key")}
	c.pool = c.issue(t, "ignition-server-ca")
	return c
}

// issue makes a new CA named cn, signs a serving certificate with it,
// writes both files (replacing the old ones the way a Secret volume does,
// by rename) and returns a pool trusting only the new CA.
func (c *certs) issue(t *testing.T, cn string) *x509.CertPool {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano() + 1), Subject: pkix.Name{CommonName: "ignition-server"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		DNSNames: []string{"ignition-server", "localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(path string, block *pem.Block) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(c.keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	write(c.certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(c.dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

// metric returns the value of one sample line of /metrics, such as
// `hcpmirror_ignition_requests_total{outcome="served"}`.
func metric(t *testing.T, metricsURL, series string) string {
	t.Helper()
	resp, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func tlsConfig(pool *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: pool} }

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

func configMap(ns, conf string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: hostedcluster.RegistriesConfigMap, Namespace: ns},
		Data: map[string]string{hostedcluster.RegistriesConfKey: conf}}
}
