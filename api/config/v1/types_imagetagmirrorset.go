package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageTagMirrorSet lists, per source, the mirrors that may serve pulls by
// tag (and name-only pulls, which mean :latest). A disconnected cluster
// reaches images only through such sets, so hcpmirror reads them on the
// management cluster, writes them into hosted clusters and renders them as
// registries.conf.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=imagetagmirrorsets,scope=Cluster,shortName=itms
// +kubebuilder:subresource:status
type ImageTagMirrorSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the mirror entries; the object has no other content.
	// +required
	Spec ImageTagMirrorSetSpec `json:"spec"`

	// Status is always empty: the set is configuration and reports nothing
	// back. It is declared because OpenShift's objects carry "status: {}".
	// +optional
	Status ImageTagMirrorSetStatus `json:"status,omitempty"`
}

// ImageTagMirrorSetSpec carries the list of sources and their mirrors.
type ImageTagMirrorSetSpec struct {
	// ImageTagMirrors maps sources to mirrors. Entries are independent of
	// each other and of other sets: when several entries name the same
	// source, their mirror lists are merged in a stable order, so the order
	// of entries here carries no meaning. Mirrors listed here serve only
	// pulls by tag (and name-only pulls), never pulls by digest.
	// +optional
	// +listType=atomic
	ImageTagMirrors []ImageTagMirrors `json:"imageTagMirrors,omitempty"`
}

// ImageTagMirrorSetStatus is intentionally empty: the set is pure
// configuration and reports nothing back.
type ImageTagMirrorSetStatus struct{}

// ImageTagMirrors is one source with the mirrors to try for it, in order.
type ImageTagMirrors struct {
	// Source is the prefix of the image names this entry covers: a host, a
	// host with a namespace or repository path, or a wildcard host such as
	// "*.example.com". It is compared as a string prefix, never parsed as an
	// image reference, which is why it may not carry a tag or digest.
	// +required
	// +kubebuilder:validation:Pattern=`^\*(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+$|^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)$`
	Source string `json:"source"`

	// Mirrors are tried before the source, in this order (merged with the
	// lists of other entries for the same source). The part of an image name
	// after Source is appended to each mirror, so a mirror must hold the same
	// repository layout as the source below that prefix.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:Pattern=`^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)$`
	Mirrors []string `json:"mirrors,omitempty"`

	// MirrorSourcePolicy decides whether the source is tried after the
	// mirrors. Unset means AllowContactingSource.
	// +optional
	MirrorSourcePolicy MirrorSourcePolicy `json:"mirrorSourcePolicy,omitempty"`
}

// ImageTagMirrorSetList is what the API server returns for a list
// request; clients need the type to list or watch the kind.
//
// +kubebuilder:object:root=true
type ImageTagMirrorSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the sets, in the order the server returned them.
	Items []ImageTagMirrorSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageTagMirrorSet{}, &ImageTagMirrorSetList{})
}
