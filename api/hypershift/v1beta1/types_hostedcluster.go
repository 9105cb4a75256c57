package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HostedCluster is the user's description of a hosted OpenShift cluster.
// hcpmirror reads it to learn which release payload must be reachable
// through mirrors and which mirrors the guest nodes will be told about, and
// reports on it whether the mirror configuration could be applied.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=hostedclusters,scope=Namespaced,shortName=hc;hcs
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Release",type="string",JSONPath=".spec.release.image",description="Release image the cluster runs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type HostedCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired cluster, as far as image locations are concerned.
	// +optional
	Spec HostedClusterSpec `json:"spec,omitempty"`

	// Status reports, through conditions, whether the cluster's images can
	// be reached.
	// +optional
	Status HostedClusterStatus `json:"status,omitempty"`
}

// HostedClusterSpec is the subset of HyperShift's spec that decides where
// the control plane and the nodes get their images from.
type HostedClusterSpec struct {
	// Release names the OpenShift release payload. Its image, and every
	// component it references, must be reachable through mirrors in a
	// disconnected environment.
	// +required
	Release Release `json:"release"`

	// PullSecret names a Secret in the HostedCluster's namespace holding
	// registry credentials. Mirrors are authenticated with the credentials
	// for the mirror's host, so they must be in this secret too.
	// +required
	PullSecret corev1.LocalObjectReference `json:"pullSecret"`

	// ImageContentSources are the mirrors the guest cluster's nodes use. They
	// are independent of the management cluster's mirror sets because guest
	// nodes may not reach the management cluster's mirrors. Changing the
	// list rolls out every NodePool.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=255
	ImageContentSources []ImageContentSource `json:"imageContentSources,omitempty"`

	// AdditionalTrustBundle names a ConfigMap with extra CA certificates,
	// typically the ones that sign a private mirror registry's certificate.
	// +optional
	AdditionalTrustBundle *corev1.LocalObjectReference `json:"additionalTrustBundle,omitempty"`

	// OLMCatalogPlacement says where the default OLM catalogs run, and so
	// through whose mirrors their index images are pulled.
	// +optional
	// +kubebuilder:default=management
	OLMCatalogPlacement OLMCatalogPlacement `json:"olmCatalogPlacement,omitempty"`
}

// Release identifies a release payload by image.
type Release struct {
	// Image is the pull spec of the release payload, normally
	// quay.io/openshift-release-dev/ocp-release by tag or digest. It is kept
	// canonical: mirrors are applied when pulling, never written here.
	// +required
	Image string `json:"image"`
}

// HostedClusterStatus carries only the conditions hcpmirror reads or sets.
type HostedClusterStatus struct {
	// Conditions report the state of the cluster; hcpmirror adds its own
	// types next to HyperShift's, keyed by type.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// HostedClusterList is what the API server returns for a list request;
// clients need the type to list or watch the kind.
//
// +kubebuilder:object:root=true
type HostedClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the hosted clusters, in the order the server returned them.
	Items []HostedCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HostedCluster{}, &HostedClusterList{})
}
