package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HostedControlPlane is HyperShift's copy of a HostedCluster's control-plane
// settings, in the control plane's own namespace. The control-plane operator
// works from it rather than from the HostedCluster, so hcpmirror reads the
// release image and imageContentSources from here when acting inside that
// namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=hostedcontrolplanes,scope=Namespaced,shortName=hcp;hcps
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Release",type="string",JSONPath=".spec.releaseImage",description="Release image the control plane runs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type HostedControlPlane struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired control plane, as far as image locations are
	// concerned.
	// +optional
	Spec HostedControlPlaneSpec `json:"spec,omitempty"`

	// Status reports, through conditions, whether the control plane's images
	// can be reached.
	// +optional
	Status HostedControlPlaneStatus `json:"status,omitempty"`
}

// HostedControlPlaneSpec is the subset of HyperShift's spec that decides
// where the control plane gets its images from. HyperShift copies these
// fields from the HostedCluster; unlike there, the release is a plain string.
type HostedControlPlaneSpec struct {
	// ReleaseImage is the pull spec of the release payload, kept canonical
	// (mirrors are applied when pulling).
	// +required
	ReleaseImage string `json:"releaseImage"`

	// PullSecret names a Secret in the control plane's namespace holding
	// registry credentials, mirrors' included.
	// +required
	PullSecret corev1.LocalObjectReference `json:"pullSecret"`

	// ImageContentSources are the guest nodes' mirrors, copied from the
	// HostedCluster; the guest's ImageDigestMirrorSet "cluster" is written
	// from this list.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=255
	ImageContentSources []ImageContentSource `json:"imageContentSources,omitempty"`

	// AdditionalTrustBundle names a ConfigMap with extra CA certificates,
	// such as the one that signs a private mirror registry's certificate.
	// +optional
	AdditionalTrustBundle *corev1.LocalObjectReference `json:"additionalTrustBundle,omitempty"`

	// OLMCatalogPlacement says where the default OLM catalogs run, and so
	// through whose mirrors their index images are pulled.
	// +optional
	// +kubebuilder:default=management
	OLMCatalogPlacement OLMCatalogPlacement `json:"olmCatalogPlacement,omitempty"`
}

// HostedControlPlaneStatus carries what the control-plane-operator found
// when it read the release through the mirrors, and its conditions.
type HostedControlPlaneStatus struct {
	// ReleaseImage is the release the control-plane-operator last read,
	// canonical and by digest (mirrors are applied when pulling).
	// +optional
	ReleaseImage string `json:"releaseImage,omitempty"`

	// Version is that release's version.
	// +optional
	Version string `json:"version,omitempty"`

	// ReleaseServedBy is the physical reference that served the release:
	// the mirror actually used, or the source.
	// +optional
	ReleaseServedBy string `json:"releaseServedBy,omitempty"`

	// Conditions report the state of the control plane, keyed by type.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// HostedControlPlaneList is what the API server returns for a list request;
// clients need the type to list or watch the kind.
//
// +kubebuilder:object:root=true
type HostedControlPlaneList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the control planes, in the order the server returned them.
	Items []HostedControlPlane `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HostedControlPlane{}, &HostedControlPlaneList{})
}
