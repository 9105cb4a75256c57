package dataplane

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// The data plane's mirror configuration (docs/semantics.md §7.3): nodes get
// what the HostedCluster's imageContentSources say, never the management
// sets (guest nodes may not reach management mirrors).
const (
	// DataPlaneConfigMap is the ignition config HyperShift renders into node
	// configuration.
	DataPlaneConfigMap = "ignition-config-40-image-content-source"
	// CoreIgnitionConfigLabel marks ConfigMaps the ignition server includes.
	CoreIgnitionConfigLabel = "hypershift.openshift.io/core-ignition-config"
	// DataPlaneConfigKey holds the mirror sets as YAML.
	DataPlaneConfigKey = "config"
	// MirrorTagsAnnotation, "true" on a HostedCluster, also gives nodes an
	// ImageTagMirrorSet with the same entries: imageContentSources cannot
	// say digest or tag, and HyperShift only mirrors digests.
	MirrorTagsAnnotation = "hcpmirror.io/mirror-tags"
)

// dataPlaneConfig renders the guest mirror sets, or nil for an empty list.
func dataPlaneConfig(hc *hypershiftv1beta1.HostedCluster) ([]byte, error) {
	if len(hc.Spec.ImageContentSources) == 0 {
		return nil, nil
	}
	meta := metav1.ObjectMeta{Name: "cluster", Labels: map[string]string{
		"machineconfiguration.openshift.io/role": "worker",
		"hypershift.openshift.io/managed":        "true",
	}}
	idms := &configv1.ImageDigestMirrorSet{TypeMeta: metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageDigestMirrorSet"}, ObjectMeta: meta}
	itms := &configv1.ImageTagMirrorSet{TypeMeta: metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageTagMirrorSet"}, ObjectMeta: meta}
	for _, ics := range hc.Spec.ImageContentSources {
		idms.Spec.ImageDigestMirrors = append(idms.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: ics.Source, Mirrors: ics.Mirrors})
		itms.Spec.ImageTagMirrors = append(itms.Spec.ImageTagMirrors, configv1.ImageTagMirrors{Source: ics.Source, Mirrors: ics.Mirrors})
	}
	docs := []any{idms}
	if hc.Annotations[MirrorTagsAnnotation] == "true" {
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
