package v1beta1

// Condition types hcpmirror sets on HostedCluster status. Each reads as a
// statement that is True when all is well, so `kubectl wait
// --for=condition=RegistryOverridesPropagated` works as people expect.
//
// Every reconcile writes every type its controller owns: Unknown, with a
// reason below, when it could not be computed this time, so a condition
// never disappears and `kubectl wait` never hangs on a missing one.
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
	// GuestMirrorSetsApplied (HostedControlPlane, set by the
	// control-plane-operator) is True when the guest cluster's
	// ImageDigestMirrorSet "cluster" (and ImageTagMirrorSet, with
	// hcpmirror.io/mirror-tags) carry spec.imageContentSources.
	GuestMirrorSetsApplied = "GuestMirrorSetsApplied"
	// IgnitionServerCertificatesReady (HostedControlPlane) is True when the
	// ignition server's CA, published CA certificate and serving
	// certificate Secrets are current.
	IgnitionServerCertificatesReady = "IgnitionServerCertificatesReady"
	// IgnitionTokensReady (HostedControlPlane) is True when every NodePool
	// of the cluster has a current token Secret.
	IgnitionTokensReady = "IgnitionTokensReady"
)

// Condition reasons, CamelCase as Kubernetes conventions require.
const (
	// ReasonAsExpected: the condition holds.
	ReasonAsExpected = "AsExpected"
	// ReasonInvalidMirrorSets: validation rejected a mirror set; see the message.
	ReasonInvalidMirrorSets = "InvalidMirrorSets"
	// ReasonMirrorSetsUnavailable: mirror sets could not be read from the
	// API server (or cache). ValidMirrorSets, ReleaseImageResolved and
	// RegistryOverridesPropagated are Unknown with it; deployments keep the
	// overrides they have.
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
	// ReasonControlPlaneUnavailable: the hosted control plane namespace or its
	// HostedControlPlane could not be written (or does not exist yet), so
	// nothing in it was checked this time. The condition is Unknown.
	ReasonControlPlaneUnavailable = "ControlPlaneUnavailable"
	// ReasonReleaseLookupDisabled: the operator runs without a release
	// provider (tests, labs); ReleaseImageResolved is Unknown.
	ReasonReleaseLookupDisabled = "ReleaseLookupDisabled"
	// ReasonWriteConflict: a write lost a race with another writer (or the
	// operator's cache does not show its own last write yet) and is checked
	// again at once. RegistryOverridesPropagated (or, for the nodes'
	// ConfigMap, ValidImageContentSources) keeps the value it had; a cluster
	// that never had one reads Unknown with this reason.
	ReasonWriteConflict = "WriteConflict"
	// ReasonDataPlaneConfigNotWritten: imageContentSources is valid, but the
	// nodes' ConfigMap could not be written; ValidImageContentSources is
	// Unknown until it is.
	ReasonDataPlaneConfigNotWritten = "DataPlaneConfigNotWritten"
	// ReasonGuestKubeconfigMissing: the Secret service-network-admin-kubeconfig
	// (key kubeconfig) does not exist yet or is malformed;
	// GuestMirrorSetsApplied is Unknown.
	ReasonGuestKubeconfigMissing = "GuestKubeconfigMissing"
	// ReasonGuestUnreachable: the guest API server refused or failed the
	// write; GuestMirrorSetsApplied is Unknown (the guest keeps what it has).
	ReasonGuestUnreachable = "GuestUnreachable"
	// ReasonSecretWriteFailed: a certificate or token Secret could not be
	// read or written; the condition is Unknown.
	ReasonSecretWriteFailed = "SecretWriteFailed"
	// ReasonNodePoolsUnavailable: NodePools (or their config ConfigMaps)
	// could not be read; IgnitionTokensReady is Unknown.
	ReasonNodePoolsUnavailable = "NodePoolsUnavailable"
)

// Condition types and reasons of the OLM catalogs (docs/semantics.md §7.4),
// set on the HostedControlPlane by the catalogs controller of the
// control-plane-operator under field manager "hcpmirror-catalogs".
const (
	// OLMCatalogsReconciled is True when the catalogs ImageStream (unless
	// pinned) and the four catalog Deployments match the annotations and the
	// release's minor version. False names the bad annotation; the catalogs
	// in place stay as they were (nothing is half-applied).
	OLMCatalogsReconciled = "OLMCatalogsReconciled"
	// ReasonInvalidCatalogAnnotations: a pin or the override annotation is
	// malformed; the message names it.
	ReasonInvalidCatalogAnnotations = "InvalidCatalogAnnotations"
	// ReasonReleaseVersionUnknown: the release's minor version cannot be read
	// (a release by digest); the condition is Unknown.
	ReasonReleaseVersionUnknown = "ReleaseVersionUnknown"
	// ReasonGuestPlacement: olmCatalogPlacement is guest; nothing is run in
	// the control plane namespace.
	ReasonGuestPlacement = "GuestPlacement"
	// ReasonCatalogsNotWritten: writing the ImageStream or a Deployment failed.
	ReasonCatalogsNotWritten = "CatalogsNotWritten"
)

// Condition types and reasons of companion mode (`hcpmirror operator
// --companion`, beside HyperShift's own operator), set on the HostedCluster
// under field manager "hcpmirror-companion"; HyperShift's own conditions are
// never written.
const (
	// InjectedOverridesMatch is True when every --registry-overrides
	// argument and OPENSHIFT_IMG_OVERRIDES variable HyperShift injected into
	// the hosted control plane's Deployments matches what the management
	// mirror sets mean; False lists each that differs.
	InjectedOverridesMatch = "InjectedOverridesMatch"
	// ReasonInjectedDiffer: at least one carrier differs; see the message.
	ReasonInjectedDiffer = "InjectedOverridesDiffer"
	// ReasonNoCarriers: no Deployment in the namespace carries overrides
	// (yet); the condition is Unknown.
	ReasonNoCarriers = "NoCarriers"
)
