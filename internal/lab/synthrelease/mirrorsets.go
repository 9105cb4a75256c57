package synthrelease

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// MirrorSets returns what a user applies after mirroring the release, the
// way oc-mirror v2 writes it: an ImageDigestMirrorSet for both repositories
// (every digest reference of the payload) and an ImageTagMirrorSet for the
// release repository (its tag is what people type), both named name, every
// entry with the given mirrorSourcePolicy.
func (p *Published) MirrorSets(name string, policy configv1.MirrorSourcePolicy) (*configv1.ImageDigestMirrorSet, *configv1.ImageTagMirrorSet) {
	idms := &configv1.ImageDigestMirrorSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageDigestMirrorSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	itms := &configv1.ImageTagMirrorSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: configv1.GroupVersion.String(), Kind: "ImageTagMirrorSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, m := range p.Mirrors {
		idms.Spec.ImageDigestMirrors = append(idms.Spec.ImageDigestMirrors,
			configv1.ImageDigestMirrors{Source: m.Source, Mirrors: m.Mirrors, MirrorSourcePolicy: policy})
		if m.Source == release.CanonicalReleaseRepository {
			itms.Spec.ImageTagMirrors = append(itms.Spec.ImageTagMirrors,
				configv1.ImageTagMirrors{Source: m.Source, Mirrors: m.Mirrors, MirrorSourcePolicy: policy})
		}
	}
	return idms, itms
}

// MirrorSetsYAML is MirrorSets as one YAML stream, the ImageDigestMirrorSet
// first, for "kubectl apply -f" or hcpmirror's -f.
func (p *Published) MirrorSetsYAML(name string, policy configv1.MirrorSourcePolicy) ([]byte, error) {
	idms, itms := p.MirrorSets(name, policy)
	var docs [][]byte
	for _, obj := range []any{idms, itms} {
		y, err := manifest.EncodeYAML(obj)
		if err != nil {
			return nil, fmt.Errorf("encoding mirror sets: %w", err)
		}
		docs = append(docs, y)
	}
	return manifest.JoinDocuments(docs), nil
}
