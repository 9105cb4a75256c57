// Package v1beta1 declares the slice of HyperShift's hypershift.openshift.io
// API that hcpmirror works with: the HostedCluster a user creates and the
// HostedControlPlane HyperShift derives from it. Only the fields that decide
// where images come from are declared (release image, pull secret, trust
// bundle, imageContentSources, OLM catalog placement) plus status
// conditions; JSON names match HyperShift's, and fields hcpmirror does not
// declare are left untouched by merge patches.
//
// +kubebuilder:object:generate=true
// +groupName=hypershift.openshift.io
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version HyperShift serves these kinds
	// under; it must match exactly to interoperate with HyperShift.
	GroupVersion = schema.GroupVersion{Group: "hypershift.openshift.io", Version: "v1beta1"}

	// SchemeBuilder collects this package's kinds so a client's scheme can
	// learn all of them in one call.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme registers this package's kinds with a runtime.Scheme, which
	// typed controller-runtime clients need before they can read or write them.
	AddToScheme = SchemeBuilder.AddToScheme
)
