package v1

// MirrorSourcePolicy says whether a pull may fall back to the source when no
// mirror can serve it. It exists so that a disconnected cluster can fail fast,
// and provably never reach the internet, instead of waiting on a source it
// cannot reach.
//
// +kubebuilder:validation:Enum=AllowContactingSource;NeverContactSource
type MirrorSourcePolicy string

const (
	// AllowContactingSource lets the runtime try the source after every
	// mirror has failed. It is what an unset policy means.
	AllowContactingSource MirrorSourcePolicy = "AllowContactingSource"

	// NeverContactSource blocks the source: only the mirrors are tried.
	// Because the blocking is done on the source string, one source must not
	// carry different policies across mirror sets.
	NeverContactSource MirrorSourcePolicy = "NeverContactSource"
)
