package v1beta1

// ImageContentSource is one entry of spec.imageContentSources: a source
// and the mirrors guest nodes should pull its images from. HyperShift gives
// these entries no policy and no tag/digest distinction: they become digest
// mirrors with the source as the last resort, written into the guest cluster
// as the ImageDigestMirrorSet "cluster".
type ImageContentSource struct {
	// Source is the prefix of the image names the entry covers. HyperShift
	// treats it as immutable and checks only its length; hcpmirror applies
	// the ImageDigestMirrorSet source pattern before using it.
	// +required
	// +kubebuilder:validation:MaxLength=255
	Source string `json:"source"`

	// Mirrors are tried, in this order, before the source.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=255
	// +kubebuilder:validation:items:MaxLength=255
	Mirrors []string `json:"mirrors,omitempty"`
}

// OLMCatalogPlacement says on which side of the hosted control plane the
// default OLM catalog sources run. It matters to mirroring because catalogs
// placed on the management side pull their index images through the
// management cluster's mirrors, while guest-placed ones use the guest's.
//
// +kubebuilder:validation:Enum=management;guest
type OLMCatalogPlacement string

const (
	// ManagementOLMCatalogPlacement runs the catalogs in the hosted control
	// plane namespace on the management cluster. It is HyperShift's default.
	ManagementOLMCatalogPlacement OLMCatalogPlacement = "management"

	// GuestOLMCatalogPlacement runs the catalogs inside the guest cluster,
	// like a standalone OpenShift cluster does.
	GuestOLMCatalogPlacement OLMCatalogPlacement = "guest"
)
