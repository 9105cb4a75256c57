package v1beta1

// Condition types hcpmirror sets on HostedCluster status. Each reads as a
// statement that is True when all is well, so `kubectl wait
// --for=condition=RegistryOverridesPropagated` works as people expect.
const (
	// ValidMirrorSets is True when the management cluster's ImageContentSourcePolicy,
	// ImageDigestMirrorSet and ImageTagMirrorSet objects compile into one
	// registries configuration. When False, the message names the object and
	// field to fix, and the hosted control plane keeps its last good overrides.
	ValidMirrorSets = "ValidMirrorSets"
	// ReleaseImageResolved is True when the release image was read through the
	// mirrors; the message says which physical location served it.
	ReleaseImageResolved = "ReleaseImageResolved"
	// RegistryOverridesPropagated is True when every deployment of the hosted
	// control plane namespace that reads overrides carries the ones the current
	// mirror sets mean.
	RegistryOverridesPropagated = "RegistryOverridesPropagated"
	// ValidImageContentSources is True when spec.imageContentSources passes
	// the rules the guest's machine-config-operator applies. When False, the
	// message names the entry, and the nodes' mirror configuration is left
	// as it was.
	ValidImageContentSources = "ValidImageContentSources"
)

// Condition reasons, CamelCase as Kubernetes conventions require.
const (
	// ReasonAsExpected: the condition holds.
	ReasonAsExpected = "AsExpected"
	// ReasonInvalidMirrorSets: validation rejected a mirror set; see the message.
	ReasonInvalidMirrorSets = "InvalidMirrorSets"
	// ReasonMirrorSetsUnavailable: mirror sets could not be read from the API server.
	ReasonMirrorSetsUnavailable = "MirrorSetsUnavailable"
	// ReasonReleaseLookupFailed: no pull source served the release image.
	ReasonReleaseLookupFailed = "ReleaseLookupFailed"
	// ReasonPullSecretMissing: the referenced pull secret does not exist or is malformed.
	ReasonPullSecretMissing = "PullSecretMissing"
	// ReasonPropagationFailed: writing a deployment or the registries ConfigMap failed.
	ReasonPropagationFailed = "PropagationFailed"
	// ReasonInvalidImageContentSources: an imageContentSources entry is rejected; see the message.
	ReasonInvalidImageContentSources = "InvalidImageContentSources"
	// ReasonKeptLastGood: the mirror sets are invalid, so the overrides in place
	// are the last good ones rather than what the (broken) sets say now.
	ReasonKeptLastGood = "KeptLastGoodOverrides"
)
