package ignition

// Names fixed by the contract with the control-plane-operator, which writes
// these objects (HyperShift's names where HyperShift has one).
const (
	// TokenLabel marks a NodePool's token Secret; the server watches only
	// Secrets carrying it with the value "true".
	TokenLabel = "hcpmirror.io/ignition-token"
	// TokenKey is the bearer value clients send, exactly as stored.
	TokenKey = "token"
	// PreviousTokenKey is the token a rotation replaced, accepted until
	// PreviousTokenExpiresAnnotation.
	PreviousTokenKey = "previous-token"
	// PreviousTokenExpiresAnnotation is when PreviousTokenKey stops being
	// accepted (RFC 3339). Without it, or unparsable, it is not accepted.
	PreviousTokenExpiresAnnotation = "hcpmirror.io/previous-token-expires"
	// ReleaseKey is the release image pullspec of the NodePool.
	ReleaseKey = "release"
	// ConfigKey is the NodePool's MachineConfigs as a YAML stream.
	ConfigKey = "config"
	// NodePoolAnnotation names the NodePool a token Secret belongs to.
	NodePoolAnnotation = "hypershift.openshift.io/node-pool"

	// PullSecretName is the Secret the nodes' pull secret is read from.
	PullSecretName = "pull-secret"
	// PullSecretKey is its key, as in every kubernetes.io/dockerconfigjson Secret.
	PullSecretKey = ".dockerconfigjson"
	// TrustBundleKey is the key of the HostedControlPlane's
	// spec.additionalTrustBundle ConfigMap.
	TrustBundleKey = "ca-bundle.crt"

	// MCOComponent is the release component whose image carries node files.
	MCOComponent = "machine-config-operator"

	// ArchQuery and ArchHeader say which architecture a node runs, so that
	// it gets the right child of multi-architecture images; amd64 when
	// neither is given.
	ArchQuery  = "arch"
	ArchHeader = "X-Hcpmirror-Arch"
)
