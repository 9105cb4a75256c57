package v1

// The validation patterns OpenShift puts on mirror-set sources and mirrors.
// They are kept as constants so that hcpmirror can apply the same rules to
// kinds whose schema has none (ImageContentSourcePolicy and a HostedCluster's
// imageContentSources), as the machine-config-operator does when it renders
// them. The kubebuilder markers on ImageDigestMirrors and ImageTagMirrors
// repeat these literals; a test keeps the two in step.
//
// A source or mirror is a prefix, not an image reference: a host with an
// optional port, then zero or more lowercase path components. Tags, digests,
// URI schemes, empty components and a trailing "/" are rejected.
const (
	// MirrorPattern matches a mirror location, and a source that is not a
	// wildcard: dot-separated host labels (a single label is accepted), an
	// optional ":port", then "/component" path segments.
	MirrorPattern = `^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)$`

	// SourcePattern matches a source: either a wildcard host "*.domain"
	// (no port, no path), which covers every subdomain but never the apex,
	// or anything MirrorPattern matches.
	SourcePattern = `^\*(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+$|` + MirrorPattern
)
