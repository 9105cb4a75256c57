package dataplane

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// The data plane's mirror configuration (docs/semantics.md §7.3): nodes get
// what the HostedControlPlane's imageContentSources say (copied from the
// HostedCluster), never the management sets (guest nodes may not reach
// management mirrors).
const (
	// DataPlaneConfigMap is the ignition config HyperShift renders into node
	// configuration.
	DataPlaneConfigMap = "ignition-config-40-image-content-source"
	// CoreIgnitionConfigLabel marks ConfigMaps the ignition server includes.
	CoreIgnitionConfigLabel = "hypershift.openshift.io/core-ignition-config"
	// DataPlaneConfigKey holds the mirror sets as YAML.
	DataPlaneConfigKey = "config"
	// MirrorTagsAnnotation, "true" on a HostedCluster (and so on its
	// HostedControlPlane, which carries its annotations), also gives nodes an
	// ImageTagMirrorSet with the same entries: imageContentSources cannot
	// say digest or tag, and HyperShift only mirrors digests.
	MirrorTagsAnnotation = "hcpmirror.io/mirror-tags"
	// GuestKubeconfigSecret holds, in key GuestKubeconfigKey, the kubeconfig
	// of the guest API server HyperShift's control-plane-operator uses.
	GuestKubeconfigSecret = "service-network-admin-kubeconfig"
	GuestKubeconfigKey    = "kubeconfig"
	// GuestMirrorSetName is the guest's mirror-set object HyperShift writes.
	GuestMirrorSetName = "cluster"
)

// guestMirrorSets returns the guest's ImageDigestMirrorSet "cluster" for
// the list, and the ImageTagMirrorSet when the annotation asks for it (nil
// otherwise). Both are nil for an empty list.
func guestMirrorSets(hcp *hypershiftv1beta1.HostedControlPlane) (*configv1.ImageDigestMirrorSet, *configv1.ImageTagMirrorSet) {
	if len(hcp.Spec.ImageContentSources) == 0 {
		return nil, nil
	}
	meta := metav1.ObjectMeta{Name: GuestMirrorSetName, Labels: map[string]string{
		"machineconfiguration.openshift.io/role": "worker",
		"hypershift.openshift.io/managed":        "true",
	}}
	idms := &configv1.ImageDigestMirrorSet{TypeMeta: metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageDigestMirrorSet"}, ObjectMeta: meta}
	itms := &configv1.ImageTagMirrorSet{TypeMeta: metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageTagMirrorSet"}, ObjectMeta: *meta.DeepCopy()}
	for _, ics := range hcp.Spec.ImageContentSources {
		idms.Spec.ImageDigestMirrors = append(idms.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: ics.Source, Mirrors: ics.Mirrors})
		itms.Spec.ImageTagMirrors = append(itms.Spec.ImageTagMirrors, configv1.ImageTagMirrors{Source: ics.Source, Mirrors: ics.Mirrors})
	}
	if hcp.Annotations[MirrorTagsAnnotation] != "true" {
		itms = nil
	}
	return idms, itms
}

// dataPlaneConfig renders the guest mirror sets as the nodes' ConfigMap
// carries them, or nil for an empty list.
func dataPlaneConfig(hcp *hypershiftv1beta1.HostedControlPlane) ([]byte, error) {
	idms, itms := guestMirrorSets(hcp)
	if idms == nil {
		return nil, nil
	}
	docs := []any{idms}
	if itms != nil {
		docs = append(docs, itms)
	}
	encoded := make([][]byte, 0, len(docs))
	for _, d := range docs {
		y, err := manifest.EncodeYAML(d)
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, y)
	}
	return manifest.JoinDocuments(encoded), nil
}
