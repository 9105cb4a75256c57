// Package v1alpha1 declares operator.openshift.io/v1alpha1
// ImageContentSourcePolicy, the original, now deprecated, mirror-set kind.
// Clusters still carry ICSPs next to ImageDigestMirrorSets, and both feed the
// same registries.conf, so hcpmirror must read them.
//
// +kubebuilder:object:generate=true
// +groupName=operator.openshift.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version OpenShift serves
	// ImageContentSourcePolicy under; it must match exactly to interoperate.
	GroupVersion = schema.GroupVersion{Group: "operator.openshift.io", Version: "v1alpha1"}

	// SchemeBuilder collects this package's kinds so a client's scheme can
	// learn all of them in one call.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme registers this package's kinds with a runtime.Scheme, which
	// typed controller-runtime clients need before they can read or write them.
	AddToScheme = SchemeBuilder.AddToScheme
)
