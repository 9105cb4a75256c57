package imageset

// The two apiVersions and the one kind Load accepts.
const (
	// APIVersionV1Alpha2 is oc-mirror v1's ImageSetConfiguration.
	APIVersionV1Alpha2 = "mirror.openshift.io/v1alpha2"
	// APIVersionV2Alpha1 is oc-mirror v2's ImageSetConfiguration.
	APIVersionV2Alpha1 = "mirror.openshift.io/v2alpha1"
	// Kind is the only kind Load reads. DeleteImageSetConfiguration is
	// not supported.
	Kind = "ImageSetConfiguration"
)

// Channel types: which update graph a channel is looked up in.
const (
	ChannelTypeOCP = "ocp"
	ChannelTypeOKD = "okd"
)

// Architectures as ImageSetConfiguration and the update graph spell them
// (Go names, not the x86_64 of release tags).
var Architectures = []string{"amd64", "arm64", "ppc64le", "s390x", "multi"}

// DefaultArchitecture is mirrored when mirror.platform.architectures is empty.
const DefaultArchitecture = "amd64"

// ImageSetConfiguration is one file, in the union of both versions' fields.
// Load rejects fields the file's apiVersion does not have, so a value read
// from a v2alpha1 file never carries StorageConfig, and one from v1alpha2
// never carries Platform.Release or Platform.KubeVirtContainer.
type ImageSetConfiguration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// ArchiveSize is the archive chunk size in GiB oc-mirror splits its
	// tar files at. Disk mode here writes an OCI layout, not chunks, so
	// the value is accepted and has no effect (a Note says so).
	ArchiveSize int `json:"archiveSize,omitempty"`
	// StorageConfig is v1alpha2 only: where oc-mirror v1 kept its
	// metadata. Accepted with a Note.
	StorageConfig *StorageConfig `json:"storageConfig,omitempty" imageset:"v1alpha2"`
	Mirror        Mirror         `json:"mirror"`
}

// StorageConfig is oc-mirror v1's metadata location.
type StorageConfig struct {
	Registry *RegistryStorage `json:"registry,omitempty"`
	Local    *LocalStorage    `json:"local,omitempty"`
}

// RegistryStorage keeps metadata in an image.
type RegistryStorage struct {
	ImageURL string `json:"imageURL"`
	SkipTLS  bool   `json:"skipTLS,omitempty"`
}

// LocalStorage keeps metadata in a directory.
type LocalStorage struct {
	Path string `json:"path"`
}

// Mirror is what to mirror.
type Mirror struct {
	Platform         Platform       `json:"platform,omitempty"`
	Operators        []Operator     `json:"operators,omitempty"`
	AdditionalImages []Image        `json:"additionalImages,omitempty"`
	BlockedImages    []BlockedImage `json:"blockedImages,omitempty"`
	// Helm is not implemented: present, it is an error.
	Helm any `json:"helm,omitempty" imageset:"opaque"`
	// Samples is not implemented by oc-mirror either: an error.
	Samples any `json:"samples,omitempty" imageset:"opaque"`
}

// Platform selects OpenShift releases.
type Platform struct {
	// Channels are resolved through the update graph.
	Channels []Channel `json:"channels,omitempty"`
	// Graph asks for the update graph data image and an UpdateService:
	// not implemented, an error when true.
	Graph bool `json:"graph,omitempty"`
	// Architectures are the release architectures (Go names); empty
	// means amd64.
	Architectures []string `json:"architectures,omitempty"`
	// Release is one release image pull spec, mirrored without asking the
	// update graph (v2alpha1 only).
	Release string `json:"release,omitempty" imageset:"v2alpha1"`
	// KubeVirtContainer also mirrors the KubeVirt boot image named in the
	// payload's coreos-bootimages ConfigMap (v2alpha1 only).
	KubeVirtContainer bool `json:"kubeVirtContainer,omitempty" imageset:"v2alpha1"`
	// Platforms filters multi-architecture payloads to some platforms
	// (v2alpha1 only): not implemented, an error when set.
	Platforms []PlatformSelector `json:"platforms,omitempty" imageset:"v2alpha1"`
}

// Archs is Architectures with the default applied.
func (p Platform) Archs() []string {
	if len(p.Architectures) == 0 {
		return []string{DefaultArchitecture}
	}
	return p.Architectures
}

// PlatformSelector is one os/architecture pair.
type PlatformSelector struct {
	OS           string `json:"os,omitempty"`
	Architecture string `json:"architecture,omitempty"`
}

// Channel is one update channel and which of its releases to take.
type Channel struct {
	Name string `json:"name"`
	// Type is ocp (default) or okd.
	Type       string `json:"type,omitempty"`
	MinVersion string `json:"minVersion,omitempty"`
	MaxVersion string `json:"maxVersion,omitempty"`
	// ShortestPath takes only the releases on the shortest upgrade path
	// from MinVersion to MaxVersion.
	ShortestPath bool `json:"shortestPath,omitempty"`
	// Full takes every release of the channel within the bounds; without
	// bounds, the whole channel.
	Full bool `json:"full,omitempty"`
}

// Operator is one catalog and which of its packages to keep.
type Operator struct {
	// Catalog is the catalog image pull spec.
	Catalog string `json:"catalog"`
	// TargetCatalog replaces the catalog's repository path at the
	// destination.
	TargetCatalog string `json:"targetCatalog,omitempty"`
	// TargetTag replaces the catalog's tag at the destination.
	TargetTag string `json:"targetTag,omitempty"`
	// Full keeps every bundle of the selected packages and channels
	// instead of only channel heads; with no packages, the whole catalog.
	Full     bool      `json:"full,omitempty"`
	Packages []Package `json:"packages,omitempty"`
	// TargetName is v1alpha2's deprecated spelling of TargetCatalog.
	TargetName string `json:"targetName,omitempty" imageset:"v1alpha2"`
	// SkipDependencies is v1alpha2 only; hcpmirror, like oc-mirror v2,
	// never adds dependencies, so true is the only behaviour (a Note
	// says so when false is implied).
	SkipDependencies bool `json:"skipDependencies,omitempty" imageset:"v1alpha2"`
	// TargetCatalogSourceTemplate (v2alpha1) is not implemented: an error.
	TargetCatalogSourceTemplate string `json:"targetCatalogSourceTemplate,omitempty" imageset:"v2alpha1"`
	// Platforms (v2alpha1) is not implemented: an error.
	Platforms []PlatformSelector `json:"platforms,omitempty" imageset:"v2alpha1"`
}

// Package is one operator package.
type Package struct {
	Name string `json:"name"`
	// Channels restrict the package to these channels; empty means all.
	Channels   []PackageChannel `json:"channels,omitempty"`
	MinVersion string           `json:"minVersion,omitempty"`
	MaxVersion string           `json:"maxVersion,omitempty"`
	// DefaultChannel overrides the package's default channel, needed when
	// the filter drops the original one.
	DefaultChannel string `json:"defaultChannel,omitempty"`
	// MinBundle (v1alpha2) is not implemented: an error.
	MinBundle string `json:"minBundle,omitempty" imageset:"v1alpha2"`
}

// PackageChannel is one channel of a package, with optional bounds.
type PackageChannel struct {
	Name       string `json:"name"`
	MinVersion string `json:"minVersion,omitempty"`
	MaxVersion string `json:"maxVersion,omitempty"`
	// MinBundle (v1alpha2) is not implemented: an error.
	MinBundle string `json:"minBundle,omitempty" imageset:"v1alpha2"`
}

// Image is an additional image: a pull spec by tag, by digest or both.
type Image struct {
	Name string `json:"name"`
	// TargetRepo replaces the repository path at the destination (v2alpha1).
	TargetRepo string `json:"targetRepo,omitempty" imageset:"v2alpha1"`
	// TargetTag replaces the tag at the destination (v2alpha1).
	TargetTag string `json:"targetTag,omitempty" imageset:"v2alpha1"`
	// Platforms (v2alpha1) is not implemented: an error.
	Platforms []PlatformSelector `json:"platforms,omitempty" imageset:"v2alpha1"`
}

// BlockedImage is an unanchored regular expression: an image whose source
// or destination reference it matches is never copied.
type BlockedImage struct {
	Name string `json:"name"`
}
