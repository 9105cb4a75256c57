// Package v1 declares the config.openshift.io/v1 mirror-set kinds,
// ImageDigestMirrorSet and ImageTagMirrorSet, which replace the deprecated
// ImageContentSourcePolicy and add a per-source policy and tag mirrors.
//
// Both kinds are cluster-scoped, as in OpenShift, because the runtime
// configuration they feed (registries.conf) is node-wide.
//
// +kubebuilder:object:generate=true
// +groupName=config.openshift.io
package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version OpenShift serves these kinds
	// under; clients and CRDs must use exactly this to interoperate.
	GroupVersion = schema.GroupVersion{Group: "config.openshift.io", Version: "v1"}

	// SchemeBuilder collects this package's kinds so a client's scheme can
	// learn all of them in one call.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme registers this package's kinds with a runtime.Scheme, which
	// typed controller-runtime clients need before they can read or write them.
	AddToScheme = SchemeBuilder.AddToScheme
)
