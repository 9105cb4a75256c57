package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/ignitiontokens"
	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
	"github.com/hcpmirror/hcpmirror/internal/operator"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
)

// DemoImage is the image the demo's operator believes it runs (render
// --image); the kubelet stand-in runs Options.Binary for it.
const DemoImage = "quay.io/hcpmirror/hcpmirror:demo"

// controlPlaneSection starts the control-plane-operator from the Deployment
// the operator wrote, with the kubelet stand-in (a local process as its own
// ServiceAccount), and shows what it wrote: the HostedControlPlane's status,
// the token Secret, the nodes' ConfigMap and the guest cluster's IDMS. It
// returns a function that stops what it started.
func controlPlaneSection(ctx context.Context, n *narrator, o Options, env *ctrlenvtest.Environment, c client.Client, hc *hypershiftv1beta1.HostedCluster, reg *labregistry.Registry) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	n.section("The control-plane-operator, run from the Deployment the operator wrote")
	guestEnv, _, err := startAPIServer(o.Assets)
	if err != nil {
		return stop, fmt.Errorf("starting the guest API server: %w", err)
	}
	stops = append(stops, func() { _ = guestEnv.Stop() })
	gc, err := client.New(guestEnv.Config, client.Options{Scheme: c.Scheme()})
	if err != nil {
		return stop, err
	}
	cpns := hostedcluster.ControlPlaneNamespace(hc)
	kc, err := kubeconfig(guestEnv)
	if err != nil {
		return stop, err
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cpns, Name: dataplane.GuestKubeconfigSecret}, Data: map[string][]byte{dataplane.GuestKubeconfigKey: kc}},
		&hypershiftv1beta1.NodePool{ObjectMeta: metav1.ObjectMeta{Namespace: hc.Namespace, Name: "workers"},
			Spec: hypershiftv1beta1.NodePoolSpec{ClusterName: hc.Name, Release: hc.Spec.Release, Replicas: ptr.To[int32](3)}},
	}
	for _, cr := range operator.ComponentClusterRoles() {
		objs = append(objs, cr)
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return stop, fmt.Errorf("creating %s: %w", obj.GetName(), err)
		}
	}
	n.say("guest API server %s (its kubeconfig in Secret %s/%s); NodePool %s/workers", guestEnv.Config.Host, cpns, dataplane.GuestKubeconfigSecret, hc.Namespace)

	var dep appsv1.Deployment
	if err := waitFor(ctx, 30*time.Second, func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: cpns, Name: hostedcluster.ControlPlaneOperatorName}, &dep)
	}); err != nil {
		return stop, err
	}
	ct := dep.Spec.Template.Spec.Containers[0]
	n.say("deployments/%s: image %s, serviceAccount %s", dep.Name, ct.Image, dep.Spec.Template.Spec.ServiceAccountName)
	n.say("  %s %s", strings.Join(ct.Command, " "), strings.Join(ct.Args, " "))
	dir := filepath.Join(o.Dir, "kubelet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return stop, err
	}
	start := time.Now()
	pod, err := kubelet.Start(kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": o.Binary}, Dir: dir}, &dep)
	if err != nil {
		return stop, err
	}
	stops = append(stops, pod.Stop)
	n.say("started as a local process with its ServiceAccount token and volumes (kubelet stand-in)")
	owned := []string{hypershiftv1beta1.ReleaseImageResolved, hypershiftv1beta1.ValidImageContentSources, hypershiftv1beta1.GuestMirrorSetsApplied,
		hypershiftv1beta1.IgnitionServerCertificatesReady, hypershiftv1beta1.IgnitionTokensReady}
	hcpKey := client.ObjectKey{Namespace: cpns, Name: hc.Name}
	var hcp hypershiftv1beta1.HostedControlPlane
	if err := waitFor(ctx, 60*time.Second, func() error {
		if done, perr := pod.Exited(); done {
			return fmt.Errorf("the control-plane-operator exited (%v):\n%s", perr, pod.Logs())
		}
		if err := c.Get(ctx, hcpKey, &hcp); err != nil {
			return err
		}
		for _, t := range owned {
			if cond := meta.FindStatusCondition(hcp.Status.Conditions, t); cond == nil || cond.Status != metav1.ConditionTrue {
				return fmt.Errorf("HostedControlPlane %s: %+v", t, cond)
			}
		}
		return nil
	}); err != nil {
		return stop, err
	}
	n.say("converged in %s: hostedcontrolplanes/%s status release %s (%s), served by %s", time.Since(start).Round(time.Millisecond), hc.Name, hcp.Status.Version, hcp.Status.ReleaseImage, hcp.Status.ReleaseServedBy)
	for _, t := range owned {
		cond := meta.FindStatusCondition(hcp.Status.Conditions, t)
		n.say("  %s=%s %s", t, cond.Status, cond.Message)
	}
	var tokens corev1.SecretList
	if err := c.List(ctx, &tokens, client.InNamespace(cpns), client.MatchingLabels{ignitiontokens.TokenLabel: "true"}); err != nil {
		return stop, err
	}
	for _, s := range tokens.Items {
		n.say("token Secret %s for NodePool %s (release %s)", s.Name, s.Annotations[ignitiontokens.NodePoolAnnotation], s.Data[ignitiontokens.ReleaseKey])
	}
	var idms configv1.ImageDigestMirrorSet
	if err := gc.Get(ctx, client.ObjectKey{Name: dataplane.GuestMirrorSetName}, &idms); err != nil {
		return stop, fmt.Errorf("the guest's ImageDigestMirrorSet: %w", err)
	}
	n.say("guest ImageDigestMirrorSet %q: %d entries, first %s -> %v", idms.Name, len(idms.Spec.ImageDigestMirrors), idms.Spec.ImageDigestMirrors[0].Source, idms.Spec.ImageDigestMirrors[0].Mirrors)

	stopIgnition, err := ignitionSection(ctx, n, o, env, c, hc, reg)
	stops = append(stops, stopIgnition)
	return stop, err
}

// kubeconfig is an admin kubeconfig of an API server the demo started.
func kubeconfig(e *ctrlenvtest.Environment) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["guest"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	cfg.AuthInfos["guest"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.Config.CertData, ClientKeyData: e.Config.KeyData, Token: e.Config.BearerToken}
	cfg.Contexts["guest"] = &clientcmdapi.Context{Cluster: "guest", AuthInfo: "guest"}
	cfg.CurrentContext = "guest"
	return clientcmd.Write(*cfg)
}
