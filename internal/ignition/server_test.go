package ignition_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hcpmirror/hcpmirror/internal/ignition"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	pkgignition "github.com/hcpmirror/hcpmirror/pkg/ignition"
)

// TestPayload fetches a NodePool's payload over HTTPS and checks every part
// of it, that the mirror served the release and the MCO image (its request
// log) while the source was never dialled, and the cold and warm timings.
func TestPayload(t *testing.T) {
	f := newFixture(t, true)
	srv := f.start(ignition.Options{Rate: 1000, Burst: 1000})

	start := time.Now()
	code, body := fetch(t, f.certs.pool, srv.https+"/ignition", f.token)
	cold := time.Since(start)
	if code != http.StatusOK {
		t.Fatalf("GET /ignition = %d %s", code, body)
	}
	cfg, files := decode(t, body)
	if cfg.Ignition.Version != pkgignition.Version {
		t.Errorf("ignition.version = %q, want %q", cfg.Ignition.Version, pkgignition.Version)
	}
	want := map[string]string{
		"/etc/hcpmirror/machine-config-operator": "version=" + synthrelease.DefaultVersion + "\narch=amd64\n",
		pkgignition.PullSecretPath:               string(f.pullSecret),
		pkgignition.TrustBundlePath:              f.trust,
		"/etc/motd":                              "hello from np1\n",
	}
	for p, w := range want {
		if files[p] != w {
			t.Errorf("file %s = %q, want %q", p, files[p], w)
		}
	}
	for _, p := range []string{"/etc/kubernetes/kubelet.conf", "/etc/systemd/system/kubelet.service.d/20-hcpmirror.conf"} {
		if files[p] == "" {
			t.Errorf("MCO file %s missing from the payload", p)
		}
	}
	rc := files[pkgignition.RegistriesConfPath]
	for _, s := range []string{`location = "` + f.source + `/openshift-release-dev"`, `location = "node-mirror.example.internal:5000/ocp"`, `pull-from-mirror = "digest-only"`} {
		if !strings.Contains(rc, s) {
			t.Errorf("registries.conf lacks %s:\n%s", s, rc)
		}
	}
	if cfg.Passwd == nil || len(cfg.Passwd.Users) != 1 || cfg.Passwd.Users[0].Name != "core" {
		t.Errorf("passwd = %+v, want the core user's key from the MachineConfig", cfg.Passwd)
	}
	if n := f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo); n == 0 {
		t.Errorf("mirror A served no release manifest: %v", f.mirrorA.RequestsByPath())
	}
	mcoDigest := f.mco[strings.LastIndex(f.mco, "@")+1:]
	if n := f.pulls(f.mirrorA, "/v2/"+synthrelease.DefaultComponentsRepo+"/manifests/"+mcoDigest); n == 0 {
		t.Errorf("mirror A served no MCO manifest list: %v", f.mirrorA.RequestsByPath())
	}
	if n := f.pulls(f.mirrorB, "/"); n != 0 {
		t.Errorf("mirror B got %d requests, want none", n)
	}

	// Warm: the cached payload, no registry request.
	before := f.pulls(f.mirrorA, "/")
	start = time.Now()
	code, body2 := fetch(t, f.certs.pool, srv.https+"/ignition", f.token)
	warm := time.Since(start)
	if code != http.StatusOK || string(body2) != string(body) {
		t.Fatalf("second GET = %d, same bytes %v", code, string(body2) == string(body))
	}
	if n := f.pulls(f.mirrorA, "/") - before; n != 0 {
		t.Errorf("a warm request made %d registry requests, want 0", n)
	}
	// Warm requests on one kept-alive connection: the server's own cost.
	c := clientFor(f.certs)
	const n = 100
	var lat []time.Duration
	for range n {
		req, _ := http.NewRequest(http.MethodGet, srv.https+"/ignition", nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		s := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(s))
	}
	slices.Sort(lat)
	t.Logf("payload %d bytes; cold %v (release + MCO read through the mirror), warm %v (cached, new TLS connection); kept-alive warm median %v, p95 %v over %d",
		len(body), cold, warm, lat[n/2], lat[n*95/100], n)

	// arm64: the other child of the MCO manifest list.
	code, body = fetch(t, f.certs.pool, srv.https+"/ignition?arch=arm64", f.token)
	if code != http.StatusOK {
		t.Fatalf("GET ?arch=arm64 = %d %s", code, body)
	}
	if _, files := decode(t, body); !strings.Contains(files["/etc/hcpmirror/machine-config-operator"], "arch=arm64") {
		t.Errorf("arm64 payload MCO file = %q, want arch=arm64", files["/etc/hcpmirror/machine-config-operator"])
	}
	if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition?arch=mips", f.token); code != http.StatusBadRequest {
		t.Errorf("?arch=mips = %d, want 400", code)
	}
	if got := metric(t, srv.metrics, `hcpmirror_ignition_requests_total{outcome="served"}`); got != "103" {
		t.Errorf("served counter = %q, want 103", got)
	}
}

// TestUnauthorized: no payload without the exact token.
func TestUnauthorized(t *testing.T) {
	f := newFixture(t, true)
	srv := f.start(ignition.Options{})
	for _, tc := range []struct{ name, header string }{
		{"missing", ""},
		{"wrong", "Bearer nope"},
		{"prefix of the token", "Bearer " + f.token[:10]},
		{"token twice", "Bearer " + f.token + " " + f.token},
		{"basic", "Basic " + f.token},
		{"bearer without token", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.https+"/ignition", nil)
			if tc.header != "" {
				req.Header["Authorization"] = []string{tc.header}
			}
			resp, err := clientFor(f.certs).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 512)
			n, _ := resp.Body.Read(buf)
			if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(buf[:n]), "ignition\"") {
				t.Errorf("status %d body %q, want 401 and no payload", resp.StatusCode, buf[:n])
			}
		})
	}
	if n := f.pulls(f.mirrorA, "/"); n != 0 {
		t.Errorf("unauthorized requests made %d registry requests", n)
	}
	if got := metric(t, srv.metrics, `hcpmirror_ignition_requests_total{outcome="unauthorized"}`); got != "6" {
		t.Errorf("unauthorized counter = %q, want 6", got)
	}
}

func clientFor(c *certs) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(c.pool)}, Timeout: 30 * time.Second}
}

// TestLiveMirrorChange edits hcpmirror-registries: the next request is
// served by the new mirror without a restart, and a blocked source with no
// mirror is refused without being dialled.
func TestLiveMirrorChange(t *testing.T) {
	f := newFixture(t, true)
	srv := f.start(ignition.Options{})
	if code, body := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusOK {
		t.Fatalf("GET = %d %s", code, body)
	}
	f.setRegistries(f.mirrorB)
	aBefore := f.pulls(f.mirrorA, "/")
	envtest.Eventually(t, 10*time.Second, func() error {
		code, body := fetch(t, f.certs.pool, srv.https+"/ignition", f.token)
		if code != http.StatusOK {
			return fmtErr("GET = %d %s", code, body)
		}
		if f.manifestPulls(f.mirrorB, synthrelease.DefaultReleaseRepo) == 0 {
			return fmtErr("mirror B not used yet")
		}
		return nil
	})
	if n := f.manifestPulls(f.mirrorB, synthrelease.DefaultComponentsRepo); n == 0 {
		t.Errorf("mirror B served no MCO manifest")
	}
	if n := f.pulls(f.mirrorA, "/") - aBefore; n != 0 {
		t.Errorf("mirror A got %d requests after the change, want 0", n)
	}

	// No mirror at all and the source blocked: refused, source untouched
	// (the Unreachable source fails the test if dialled).
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "hcpmirror-registries"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["registries.conf"] = "[[registry]]\nprefix = \"" + f.source + "\"\nlocation = \"" + f.source + "\"\nblocked = true\n"
	if err := env.Client.Update(context.Background(), &cm); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 10*time.Second, func() error {
		if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusInternalServerError {
			return fmtErr("GET = %d, want 500 while the source is blocked without mirrors", code)
		}
		return nil
	})
}

// TestEnvironmentFallback: without hcpmirror-registries the environment's
// overrides are used; creating the ConfigMap takes over at once.
func TestEnvironmentFallback(t *testing.T) {
	f := newFixture(t, false)
	env := f.source + "/openshift-release-dev/ocp-release=" + f.mirrorA.Addr + "/" + synthrelease.DefaultReleaseRepo +
		"," + f.source + "/openshift-release-dev/ocp-v4.0-art-dev=" + f.mirrorA.Addr + "/" + synthrelease.DefaultComponentsRepo
	srv := f.start(ignition.Options{EnvOverrides: env})
	if code, body := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusOK {
		t.Fatalf("GET = %d %s", code, body)
	}
	if f.manifestPulls(f.mirrorA, synthrelease.DefaultReleaseRepo) == 0 {
		t.Fatal("mirror A (from OPENSHIFT_IMG_OVERRIDES) served nothing")
	}
	f.create(configMap(f.ns, f.registriesConf(f.mirrorB)))
	envtest.Eventually(t, 10*time.Second, func() error {
		if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusOK {
			return fmtErr("GET = %d", code)
		}
		if f.manifestPulls(f.mirrorB, synthrelease.DefaultReleaseRepo) == 0 {
			return fmtErr("mirror B (the new ConfigMap) not used yet")
		}
		return nil
	})
}

// TestPreviousToken: after a rotation both tokens work until the expiry
// annotation, then only the new one.
func TestPreviousToken(t *testing.T) {
	f := newFixture(t, true)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := f.start(ignition.Options{Now: clock})
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "token-np1-0a1b2c3d"}, &s); err != nil {
		t.Fatal(err)
	}
	newToken := "tok-rotated-7c6b5a4d3e2f1a0b9c8d7e6f"
	s.Data[ignition.PreviousTokenKey] = s.Data[ignition.TokenKey]
	s.Data[ignition.TokenKey] = []byte(newToken)
	s.Annotations[ignition.PreviousTokenExpiresAnnotation] = now.Add(time.Hour).UTC().Format(time.RFC3339)
	if err := env.Client.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, 10*time.Second, func() error {
		if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", newToken); code != http.StatusOK {
			return fmtErr("new token: %d", code)
		}
		return nil
	})
	if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusOK {
		t.Errorf("previous token before expiry = %d, want 200", code)
	}
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", f.token); code != http.StatusUnauthorized {
		t.Errorf("previous token after expiry = %d, want 401", code)
	}
	if code, _ := fetch(t, f.certs.pool, srv.https+"/ignition", newToken); code != http.StatusOK {
		t.Errorf("new token after expiry = %d, want 200", code)
	}
}

// TestRateLimit floods from one IP: beyond the burst, 429 with Retry-After.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, true)
	srv := f.start(ignition.Options{Rate: 0.5, Burst: 3})
	c := clientFor(f.certs)
	got := map[int]int{}
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, srv.https+"/ignition", nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if got[http.StatusTooManyRequests] < 15 || got[http.StatusUnauthorized] > 5 {
		t.Errorf("statuses %v, want at most burst+1 answered and the rest 429", got)
	}
	if v := metric(t, srv.metrics, `hcpmirror_ignition_requests_total{outcome="rate_limited"}`); v == "" || v == "0" {
		t.Errorf("rate_limited counter = %q", v)
	}
}

// TestCertReload replaces the serving certificate files: the next
// handshake presents the new certificate, without a restart.
func TestCertReload(t *testing.T) {
	f := newFixture(t, true)
	srv := f.start(ignition.Options{})
	if code, _ := fetch(t, f.certs.pool, srv.https+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz over HTTPS = %d", code)
	}
	time.Sleep(10 * time.Millisecond) // a different modification time
	newPool := f.certs.issue(t, "ignition-server-ca-renewed")
	if code, _ := fetch(t, newPool, srv.https+"/ignition", f.token); code != http.StatusOK {
		t.Fatalf("GET with the renewed CA = %d", code)
	}
	resp, err := clientFor(f.certs).Get(srv.https + "/healthz")
	if err == nil {
		resp.Body.Close()
		t.Error("the old CA still verifies the server after renewal")
	}
}
