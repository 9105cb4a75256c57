package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageStream is a named set of tags, each following an image.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=imagestreams,scope=Namespaced,shortName=is
// +kubebuilder:subresource:status
type ImageStream struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec lists the tags and what they follow.
	// +optional
	Spec ImageStreamSpec `json:"spec,omitempty"`

	// Status is what the image importer observed; hcpmirror does not write it.
	// +optional
	Status ImageStreamStatus `json:"status,omitempty"`
}

// ImageStreamSpec is the desired tags.
type ImageStreamSpec struct {
	// LookupPolicy says whether pods in the namespace may name a tag
	// (stream:tag) instead of an image.
	// +optional
	LookupPolicy ImageLookupPolicy `json:"lookupPolicy,omitempty"`

	// Tags are the stream's tags, by name.
	// +optional
	// +listType=map
	// +listMapKey=name
	Tags []TagReference `json:"tags,omitempty"`
}

// ImageLookupPolicy is the stream's local name resolution.
type ImageLookupPolicy struct {
	// Local lets pods in the namespace use the stream's tags as images.
	Local bool `json:"local"`
}

// TagReference is one tag: the image it follows and how.
type TagReference struct {
	// Name is the tag.
	// +required
	Name string `json:"name"`

	// Annotations are the tag's annotations.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// From is what the tag follows: a DockerImage pull spec.
	// +optional
	From *corev1.ObjectReference `json:"from,omitempty"`

	// ImportPolicy says how and when the image is imported.
	// +optional
	ImportPolicy TagImportPolicy `json:"importPolicy,omitempty"`

	// ReferencePolicy says whether consumers pull from the source or
	// through the integrated registry (Local).
	// +optional
	ReferencePolicy TagReferencePolicy `json:"referencePolicy,omitempty"`
}

// TagImportPolicy controls the import of a tag's image.
type TagImportPolicy struct {
	// Scheduled re-imports the image periodically, so a moved tag is followed.
	// +optional
	Scheduled bool `json:"scheduled,omitempty"`
	// ImportMode is Legacy or PreserveOriginal (keep manifest lists).
	// +optional
	ImportMode string `json:"importMode,omitempty"`
}

// TagReferencePolicy is Source or Local.
type TagReferencePolicy struct {
	// Type is Source or Local.
	// +optional
	Type string `json:"type,omitempty"`
}

// ImageStreamStatus is the importer's view; kept minimal.
type ImageStreamStatus struct {
	// DockerImageRepository is where the stream's images can be pulled.
	// +optional
	DockerImageRepository string `json:"dockerImageRepository,omitempty"`

	// Tags are the images each tag was imported as, newest first (as
	// OpenShift's importer writes them). The catalogs controller reads the
	// newest item's image digest.
	// +optional
	// +listType=map
	// +listMapKey=tag
	Tags []NamedTagEventList `json:"tags,omitempty"`
}

// NamedTagEventList is a tag's import history.
type NamedTagEventList struct {
	// Tag is the tag's name.
	// +required
	Tag string `json:"tag"`

	// Items are the imports, newest first.
	// +optional
	Items []TagEvent `json:"items,omitempty"`
}

// TagEvent is one import of a tag.
type TagEvent struct {
	// Created is when the import happened.
	// +optional
	Created metav1.Time `json:"created,omitempty"`

	// DockerImageReference is the image's pull spec by digest as it was
	// tagged: for an import, the source repository (a Local reference
	// policy rewrites what lookups return, not this record).
	// +optional
	DockerImageReference string `json:"dockerImageReference,omitempty"`

	// Image is the image's manifest digest.
	// +required
	Image string `json:"image"`

	// Generation is the spec generation the import was made for.
	// +optional
	Generation int64 `json:"generation,omitempty"`
}

// ImageStreamList is a list of ImageStreams.
//
// +kubebuilder:object:root=true
type ImageStreamList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the streams.
	Items []ImageStream `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageStream{}, &ImageStreamList{})
}
