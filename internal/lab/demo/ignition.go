package demo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitionpki"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	pkgignition "github.com/hcpmirror/hcpmirror/pkg/ignition"
)

// nodeMirrorAdded is the mirror the demo adds to the HostedCluster's
// imageContentSources, to show it reach the next payload.
const nodeMirrorAdded = "node-mirror.demo.lab:5000/ocp-release"

// ignitionSection starts the ignition-server from the Deployment the
// operator wrote (kubelet stand-in), fetches the NodePool's payload with
// curl over HTTPS as a node would, shows its registries.conf and which
// registry served the machine-config-operator, then adds a mirror to the
// HostedCluster's imageContentSources and fetches again from the same
// process. It returns a function that stops the server.
func ignitionSection(ctx context.Context, n *narrator, o Options, env *ctrlenvtest.Environment, c client.Client, hc *hypershiftv1beta1.HostedCluster, reg *labregistry.Registry) (stop func(), err error) {
	n.section("The ignition-server, run from the Deployment the operator wrote; a node's request with curl")
	cpns := hostedcluster.ControlPlaneNamespace(hc)
	var dep appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: cpns, Name: hostedcluster.IgnitionServerName}, &dep); err != nil {
		return func() {}, err
	}
	ct := dep.Spec.Template.Spec.Containers[0]
	n.say("deployments/%s: serviceAccount %s", dep.Name, dep.Spec.Template.Spec.ServiceAccountName)
	n.say("  %s %s", strings.Join(ct.Command, " "), strings.Join(ct.Args, " "))
	var caSecret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: cpns, Name: ignitionpki.CACertSecret}, &caSecret); err != nil {
		return func() {}, err
	}
	caFile := filepath.Join(o.Dir, "ignition-ca.crt")
	if err := os.WriteFile(caFile, caSecret.Data["tls.crt"], 0o644); err != nil {
		return func() {}, err
	}
	var tokens corev1.SecretList
	if err := c.List(ctx, &tokens, client.InNamespace(cpns), client.MatchingLabels{ignitiontokens.TokenLabel: "true"}); err != nil || len(tokens.Items) == 0 {
		return func() {}, fmt.Errorf("listing the token Secrets of %s: %d found, %v", cpns, len(tokens.Items), err)
	}
	tok := tokens.Items[0]
	token := string(tok.Data[ignitiontokens.TokenKey])

	dir := filepath.Join(o.Dir, "kubelet-ignition")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}, err
	}
	start := time.Now()
	pod, err := kubelet.Start(kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": o.Binary}, Dir: dir}, &dep)
	if err != nil {
		return func() {}, err
	}
	stop = pod.Stop
	url := fmt.Sprintf("https://127.0.0.1:%d/ignition", pod.Port(hostedcluster.IgnitionServerPort))
	n.say("started (kubelet stand-in); container port %d is 127.0.0.1:%d here", hostedcluster.IgnitionServerPort, pod.Port(hostedcluster.IgnitionServerPort))
	curl, _ := exec.LookPath("curl")
	n.say("TOKEN is data.token of Secret %s/%s, the CA is tls.crt of Secret %s/%s:", cpns, tok.Name, cpns, ignitionpki.CACertSecret)
	n.say("  curl -sS --cacert %s -H \"Authorization: Bearer $TOKEN\" %s", caFile, url)
	if curl == "" {
		n.say("  (curl is not installed here: the same request is made with Go's HTTP client)")
	}
	fetch := func() ([]byte, error) {
		var body []byte
		err := waitFor(ctx, 60*time.Second, func() error {
			if done, perr := pod.Exited(); done {
				return fmt.Errorf("the ignition-server exited (%v):\n%s", perr, pod.Logs())
			}
			code, b, err := get(ctx, curl, caFile, caSecret.Data["tls.crt"], url, token)
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("GET %s: %d %s", url, code, b)
			}
			body = b
			return nil
		})
		return body, err
	}
	mcoBefore := mcoRequests(reg)
	body, err := fetch()
	if err != nil {
		return stop, err
	}
	rc, version, err := payloadParts(body)
	if err != nil {
		return stop, err
	}
	n.say("200 in %s after the start: an Ignition %s config of %d bytes; its /etc/containers/registries.conf:", time.Since(start).Round(time.Millisecond), version, len(body))
	indent(n, rc)
	n.say("machine-config-operator manifests served by the mirror %s: %d (the MCO's node files are in the payload)", reg.Addr, mcoRequests(reg)-mcoBefore)
	if code, _, err := get(ctx, curl, caFile, caSecret.Data["tls.crt"], url, "wrong-token"); err != nil || code != http.StatusUnauthorized {
		return stop, fmt.Errorf("a wrong token got %d (%v), want 401", code, err)
	}
	n.say("a wrong token: 401, no payload")

	n.section("A live change: a mirror is added to the HostedCluster's imageContentSources")
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := c.Get(ctx, client.ObjectKeyFromObject(hc), &cur); err != nil {
			return err
		}
		for i := range cur.Spec.ImageContentSources {
			if strings.HasSuffix(cur.Spec.ImageContentSources[i].Source, "/ocp-release") {
				cur.Spec.ImageContentSources[i].Mirrors = append(cur.Spec.ImageContentSources[i].Mirrors, nodeMirrorAdded)
			}
		}
		return c.Update(ctx, &cur)
	}); err != nil {
		return stop, err
	}
	edited := time.Now()
	if err := waitFor(ctx, 30*time.Second, func() error {
		b, err := fetch()
		if err != nil {
			return err
		}
		if rc, _, err = payloadParts(b); err != nil {
			return err
		}
		if !strings.Contains(rc, nodeMirrorAdded) {
			return errors.New("the payload does not carry the new mirror yet")
		}
		return nil
	}); err != nil {
		return stop, err
	}
	if done, _ := pod.Exited(); done {
		return stop, errors.New("the ignition-server exited during the change")
	}
	n.say("%s after the edit the same ignition-server process (not restarted) serves:", time.Since(edited).Round(time.Millisecond))
	indent(n, rc)
	return stop, nil
}

// get makes the node's request: with curl when it is installed, otherwise
// with Go's client and the same CA and header.
func get(ctx context.Context, curl, caFile string, caPEM []byte, url, token string) (int, []byte, error) {
	if curl != "" {
		out, err := os.CreateTemp("", "hcpmirror-demo-payload-")
		if err != nil {
			return 0, nil, err
		}
		defer os.Remove(out.Name())
		out.Close()
		cmd := exec.CommandContext(ctx, curl, "-sS", "--cacert", caFile, "-H", "Authorization: Bearer "+token, "-o", out.Name(), "-w", "%{http_code}", url)
		code, err := cmd.Output()
		if err != nil {
			return 0, nil, fmt.Errorf("curl %s: %w", url, err)
		}
		var status int
		if _, err := fmt.Sscanf(string(code), "%d", &status); err != nil {
			return 0, nil, fmt.Errorf("curl %s: status %q: %w", url, code, err)
		}
		b, err := os.ReadFile(out.Name())
		return status, b, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 60 * time.Second}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// payloadParts returns a payload's node registries.conf and Ignition version.
func payloadParts(b []byte) (registriesConf, version string, err error) {
	var cfg pkgignition.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", "", fmt.Errorf("the payload is not an Ignition config: %w", err)
	}
	if cfg.Storage != nil {
		for _, f := range cfg.Storage.Files {
			if f.Path == "/etc/containers/registries.conf" {
				data, err := pkgignition.DecodeDataURL(f.Contents.Source)
				return string(data), cfg.Ignition.Version, err
			}
		}
	}
	return "", cfg.Ignition.Version, errors.New("the payload has no /etc/containers/registries.conf")
}

// mcoRequests counts the mirror's manifest requests in the components
// repository (the machine-config-operator is the one the ignition server
// reads).
func mcoRequests(reg *labregistry.Registry) int {
	total := 0
	for p, k := range reg.RequestsByPath() {
		if strings.Contains(p, "/openshift/release/manifests/") {
			total += k
		}
	}
	return total
}

func indent(n *narrator, s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		n.say("  | %s", line)
	}
}
