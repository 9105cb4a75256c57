package controlplaneoperator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitionpki"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	testregistry "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	pkgignition "github.com/hcpmirror/hcpmirror/pkg/ignition"
)

// ignitionCase is what checkDeployedIgnitionServer needs from the
// control-plane-operator test: the control plane namespace, the registry the
// management IDMS points at, a second one serving the same content, the
// published release and the management mirror sets.
type ignitionCase struct {
	cpns       string
	reg, reg2  *testregistry.Registry
	pub        *synthrelease.Published
	idms       *configv1.ImageDigestMirrorSet
	itms       *configv1.ImageTagMirrorSet
	kopts      kubelet.Options
	nodeMirror string // the HostedCluster's imageContentSources mirror
}

// checkDeployedIgnitionServer runs the ignition-server Deployment exactly as
// the management operator wrote it with the kubelet stand-in, once the
// control-plane-operator has written the PKI and token Secrets, and fetches
// a NodePool's payload over HTTPS as a node would: verified with the
// published CA, the token from the token Secret. It proves the payload's
// registries.conf and MCO files, that the MCO came through the mirror, 401
// for a wrong token, and that an edit of the management IDMS reaches the
// next request through the new mirror without a restart.
func checkDeployedIgnitionServer(t *testing.T, c ignitionCase) {
	t.Helper()
	ctx := context.Background()
	var dep appsv1.Deployment
	get(t, c.cpns, hostedcluster.IgnitionServerName, &dep)
	tok := tokenSecret(t, c.cpns)
	token := string(tok.Data[ignitiontokens.TokenKey])
	var caCert corev1.Secret
	get(t, c.cpns, ignitionpki.CACertSecret, &caCert)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caCert.Data["tls.crt"]) {
		t.Fatalf("Secret %s/%s: tls.crt holds no certificate", c.cpns, ignitionpki.CACertSecret)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 60 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)

	started := time.Now()
	pod := kubelet.Run(t, c.kopts, &dep)
	url := fmt.Sprintf("https://127.0.0.1:%d/ignition", pod.Port(hostedcluster.IgnitionServerPort))
	fetch := func(token string) (int, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	mco := c.pub.Components["machine-config-operator"]
	mcoPath := func(reg *testregistry.Registry) string {
		_ = reg // both registries serve the same storage under the same paths
		return "/v2/" + synthrelease.DefaultComponentsRepo + "/manifests/" + mco[strings.Index(mco, "@")+1:]
	}
	mcoBefore := c.reg.RequestsByPath()[mcoPath(c.reg)]
	var body []byte
	envtest.Eventually(t, timeout, func() error {
		if done, err := pod.Exited(); done {
			t.Fatalf("the ignition server exited (%v):\n%s", err, tail(pod.Logs()))
		}
		code, b, err := fetch(token)
		if err != nil {
			return fmt.Errorf("GET %s: %w\nlogs:\n%s", url, err, tail(pod.Logs()))
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET %s = %d %s\nlogs:\n%s", url, code, b, tail(pod.Logs()))
		}
		body = b
		return nil
	})
	t.Logf("ignition-server: first payload (%d bytes) %.1fs after its start", len(body), time.Since(started).Seconds())
	files := payloadFiles(t, body)
	rc := files["/etc/containers/registries.conf"]
	for _, want := range []string{`"quay.io/openshift-release-dev/ocp-release"`, `"` + c.nodeMirror + `"`} {
		if !strings.Contains(rc, want) {
			t.Errorf("payload registries.conf lacks %s:\n%s", want, rc)
		}
	}
	if got := files["/etc/hcpmirror/machine-config-operator"]; !strings.Contains(got, "version="+c.pub.Version) {
		t.Errorf("payload MCO file = %q, want version=%s", got, c.pub.Version)
	}
	if n := c.reg.RequestsByPath()[mcoPath(c.reg)] - mcoBefore; n == 0 {
		t.Errorf("mirror %s served no MCO manifest (%s)", c.reg.Addr, mcoPath(c.reg))
	}
	if code, b, err := fetch("not-" + token); err != nil || code != http.StatusUnauthorized || strings.Contains(string(b), "registries") {
		t.Errorf("wrong token: %d %q %v, want 401 without payload", code, b, err)
	}

	// Switch the management mirror sets to the second registry: the
	// operator rewrites hcpmirror-registries, the server watches it.
	switched := time.Now()
	regBefore, oldMCO := c.reg.Requests(), c.reg.RequestsByPath()[mcoPath(c.reg)]
	for _, obj := range []client.Object{c.idms, c.itms} {
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			switch o := obj.(type) {
			case *configv1.ImageDigestMirrorSet:
				for i := range o.Spec.ImageDigestMirrors {
					o.Spec.ImageDigestMirrors[i].Mirrors = moved(o.Spec.ImageDigestMirrors[i].Mirrors, c.reg, c.reg2)
				}
			case *configv1.ImageTagMirrorSet:
				for i := range o.Spec.ImageTagMirrors {
					o.Spec.ImageTagMirrors[i].Mirrors = moved(o.Spec.ImageTagMirrors[i].Mirrors, c.reg, c.reg2)
				}
			}
			return env.Client.Update(ctx, obj)
		}); err != nil {
			t.Fatal(err)
		}
	}
	envtest.Eventually(t, timeout, func() error {
		code, b, err := fetch(token)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET after the switch = %d %s %v", code, b, err)
		}
		if c.reg2.RequestsByPath()[mcoPath(c.reg2)] == 0 {
			return errors.New("the second mirror has served no MCO manifest yet")
		}
		return nil
	})
	if exited, _ := pod.Exited(); exited {
		t.Errorf("the ignition server restarted or exited during the switch")
	}
	if n := c.reg.RequestsByPath()[mcoPath(c.reg)] - oldMCO; n != 0 {
		t.Errorf("old mirror %s served the MCO manifest %d times after the switch, want 0", c.reg.Addr, n)
	}
	if n := c.reg.Requests() - regBefore; n != 0 {
		// The old mirror may still be asked by the operator's own release
		// lookups before it saw the change; the ignition server must not.
		t.Logf("old mirror %s got %d requests after the switch", c.reg.Addr, n)
	}
	t.Logf("ignition-server: payload through the new mirror %.1fs after the IDMS edit, no restart", time.Since(switched).Seconds())
}

// moved replaces the registry from with to in mirror references.
func moved(mirrors []string, from, to *testregistry.Registry) []string {
	out := make([]string, len(mirrors))
	for i, m := range mirrors {
		out[i] = strings.Replace(m, from.Addr, to.Addr, 1)
	}
	return out
}

func payloadFiles(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var cfg pkgignition.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	if !strings.HasPrefix(cfg.Ignition.Version, "3.") {
		t.Errorf("ignition.version = %q, want 3.x", cfg.Ignition.Version)
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
	return files
}
