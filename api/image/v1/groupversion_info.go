// Package v1 declares the image.openshift.io/v1 ImageStream, as far as
// hcpmirror writes it: the `catalogs` ImageStream of a hosted control plane
// namespace, one tag per default OLM catalog (docs/semantics.md §7.4). On
// OpenShift the kind is served by the openshift-apiserver; this CRD stands in
// for it on plain Kubernetes and in tests.
//
// +kubebuilder:object:generate=true
// +groupName=image.openshift.io
package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version OpenShift serves ImageStreams
	// under.
	GroupVersion = schema.GroupVersion{Group: "image.openshift.io", Version: "v1"}

	// SchemeBuilder collects this package's kinds.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme registers this package's kinds with a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
