package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodePool is HyperShift's group of worker nodes of one HostedCluster, in the
// HostedCluster's namespace. hcpmirror declares only the fields that decide
// what the ignition server serves a pool's nodes: which cluster, which
// release and which extra machine configuration.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=nodepools,scope=Namespaced,shortName=np;nps
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.clusterName",description="HostedCluster the pool belongs to"
// +kubebuilder:printcolumn:name="Release",type="string",JSONPath=".spec.release.image",description="Release image the nodes boot"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type NodePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired pool.
	// +optional
	Spec NodePoolSpec `json:"spec,omitempty"`
}

// NodePoolSpec is the subset of HyperShift's NodePool spec hcpmirror reads.
type NodePoolSpec struct {
	// ClusterName is the name of the HostedCluster, in the same namespace,
	// the pool's nodes join.
	// +required
	ClusterName string `json:"clusterName"`

	// Release is the release image the pool's nodes are configured from.
	// +required
	Release Release `json:"release"`

	// Replicas is the number of nodes wanted.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Config names ConfigMaps, in the pool's namespace, whose `config` key
	// holds machine configuration added to the nodes' ignition payload.
	// +optional
	// +listType=atomic
	Config []corev1.LocalObjectReference `json:"config,omitempty"`
}

// NodePoolList is what the API server returns for a list request.
//
// +kubebuilder:object:root=true
type NodePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the pools, in the order the server returned them.
	Items []NodePool `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodePool{}, &NodePoolList{})
}
