package operator

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
	testregistry "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// TestReleaseResolvedThroughMirrors publishes a release to a private TLS
// registry with basic auth, points mirror sets (NeverContactSource) at it and
// creates a HostedCluster whose pull secret holds the mirror's credentials:
// the release is read from the mirror, and owned pods run the release's
// canonical control-plane-operator image by digest.
func TestReleaseResolvedThroughMirrors(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithBasicAuth("mirror-user", "s3cret"))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = reg.CertPool
	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{
		Destination: reg.Addr, Components: 60, // enough to include the hypershift component
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
	createClusterScoped(t, idms)
	createClusterScoped(t, itms)

	provider, err := releaseinfo.New(releaseinfo.WithRegistryOptions(registry.WithoutDefaultAuthFile(), registry.WithCAFile(reg.CAFile)), releaseinfo.RequireBootImages())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	startOperator(t, Options{Releases: Releases(provider)})

	auth := base64.StdEncoding.EncodeToString([]byte("mirror-user:s3cret"))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Addr, auth))}}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mirrored"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: pub.ReleaseTag}, PullSecret: corev1.LocalObjectReference{Name: secret.Name}}}
	if err := env.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(hc)
	envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ReleaseImageResolved, metav1.ConditionTrue,
		"Release "+pub.Version, "read from "+reg.Addr+"/openshift/release-images"))

	cpns := hostedcluster.ControlPlaneNamespace(hc)
	envtest.Eventually(t, propagationTimeout, func() error {
		var d appsv1.Deployment
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: hostedcluster.ControlPlaneOperatorName}, &d); err != nil {
			return err
		}
		ct := d.Spec.Template.Spec.Containers[0]
		if ct.Image != DefaultImage || len(ct.Command) != 1 || ct.Command[0] != hostedcluster.Binary || len(ct.Args) == 0 || ct.Args[0] != hostedcluster.ControlPlaneOperatorName {
			return fmt.Errorf("container = %s %v %v, want the operator's own image running %s %s", ct.Image, ct.Command, ct.Args, hostedcluster.Binary, hostedcluster.ControlPlaneOperatorName)
		}
		return nil
	})

	// The lookup now fails (the secret lost its credentials): the condition
	// says so, and the owned deployments do not roll to another image.
	var before appsv1.Deployment
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cpns, Name: hostedcluster.ControlPlaneOperatorName}, &before); err != nil {
		t.Fatal(err)
	}
	secret.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{}}`)
	if err := env.Client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := env.Client.Get(ctx, key, &cur); err != nil {
			return err
		}
		cur.Annotations = map[string]string{"test/nudge": "1"} // any change reconciles
		return env.Client.Update(ctx, &cur)
	}); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, propagationTimeout, wantCondition(key, hypershiftv1beta1.ReleaseImageResolved, metav1.ConditionFalse, "unauthorized"))
	var after appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&before), &after); err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || after.Spec.Template.Spec.Containers[0].Image != before.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("a failed lookup rolled the deployment: generation %d -> %d, image %s -> %s",
			before.Generation, after.Generation, before.Spec.Template.Spec.Containers[0].Image, after.Spec.Template.Spec.Containers[0].Image)
	}

	// A cluster whose pull secret lacks the mirror's credentials gets a
	// condition that says so, naming the mirror.
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-creds"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	if err := env.Client.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	hc2 := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-creds"},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: pub.ReleaseTag}, PullSecret: corev1.LocalObjectReference{Name: bad.Name}}}
	if err := env.Client.Create(ctx, hc2); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, propagationTimeout, wantCondition(client.ObjectKeyFromObject(hc2), hypershiftv1beta1.ReleaseImageResolved, metav1.ConditionFalse, reg.Addr))
	c, _ := condition(client.ObjectKeyFromObject(hc2), hypershiftv1beta1.ReleaseImageResolved)
	t.Logf("without credentials: %s: %s", c.Reason, c.Message)
}
