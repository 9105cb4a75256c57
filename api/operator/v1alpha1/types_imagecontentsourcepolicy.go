package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageContentSourcePolicy lists, per source, mirrors for pulls by digest.
// It is deprecated in favour of ImageDigestMirrorSet but still honoured by
// OpenShift, so hcpmirror reads it and treats each entry like an
// ImageDigestMirrorSet entry without a policy.
//
// Upstream's schema validates nothing beyond types: any string is admitted
// as a source or mirror, duplicates included, and mistakes only surface when
// the machine-config-operator renders the policy. The schema here is kept
// just as loose so that every object a real cluster holds can be read;
// hcpmirror's own validation applies the ImageDigestMirrorSet rules instead.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=imagecontentsourcepolicies,scope=Cluster
type ImageContentSourcePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the mirror entries; the kind has no status.
	// +required
	Spec ImageContentSourcePolicySpec `json:"spec"`
}

// ImageContentSourcePolicySpec carries the list of sources and mirrors.
type ImageContentSourcePolicySpec struct {
	// RepositoryDigestMirrors maps sources to mirrors for pulls by digest.
	// Entries naming the same source, here or in other policies and digest
	// mirror sets, are merged, so the order of entries carries no meaning.
	// +optional
	// +listType=atomic
	RepositoryDigestMirrors []RepositoryDigestMirrors `json:"repositoryDigestMirrors,omitempty"`
}

// RepositoryDigestMirrors is one source with the mirrors to try for it.
type RepositoryDigestMirrors struct {
	// Source is the prefix of the image names this entry covers. The API
	// server accepts any string; hcpmirror rejects what the
	// machine-config-operator would fail to render.
	// +required
	Source string `json:"source"`

	// Mirrors are tried, in this order, before the source, which an
	// ImageContentSourcePolicy can never block. Duplicates are admitted (the
	// list is atomic, not a set) and are ignored when merging.
	// +optional
	// +listType=atomic
	Mirrors []string `json:"mirrors,omitempty"`
}

// ImageContentSourcePolicyList is what the API server returns for a list
// request; clients need the type to list or watch the kind.
//
// +kubebuilder:object:root=true
type ImageContentSourcePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the policies, in the order the server returned them.
	Items []ImageContentSourcePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageContentSourcePolicy{}, &ImageContentSourcePolicyList{})
}
