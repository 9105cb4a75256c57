package release

// Paths of the payload files inside the release image's last layer. They are
// fixed by oc and the cluster-version-operator; a payload that moves them is
// not one any cluster could install.
const (
	// ManifestsDir is the directory that only the last layer of a release
	// image contains.
	ManifestsDir = "release-manifests/"
	// ImageReferencesFile lists the components; without it a release image
	// is just a cluster-version-operator image.
	ImageReferencesFile = ManifestsDir + "image-references"
	// MetadataFile is the Cincinnati view of the release (upgrade edges and
	// channels).
	MetadataFile = ManifestsDir + "release-metadata"
	// BootImagesFile is the machine-config-operator's ConfigMap describing
	// the CoreOS boot images, including the KubeVirt container image.
	BootImagesFile = ManifestsDir + "0000_50_installer_coreos-bootimages.yaml"
)

// Labels on the release image's config. They let a reader tell a release
// image from its base without opening a layer.
const (
	// LabelRelease holds the release version.
	LabelRelease = "io.openshift.release"
	// LabelBaseImageDigest holds the digest of the cluster-version-operator
	// image the release image was built on.
	LabelBaseImageDigest = "io.openshift.release.base-image-digest"
)

// Annotations found in image-references. The build annotations feed
// `release info --commits` and the component version table.
const (
	// AnnotationFromImageStream names the build image stream the release
	// was assembled from.
	AnnotationFromImageStream = "release.openshift.io/from-image-stream"
	// AnnotationFromRelease replaces AnnotationFromImageStream when a
	// release was assembled from another release.
	AnnotationFromRelease = "release.openshift.io/from-release"
	// AnnotationCommitID is the source commit a component was built from.
	AnnotationCommitID = "io.openshift.build.commit.id"
	// AnnotationCommitRef is the branch or tag of that commit, often empty.
	AnnotationCommitRef = "io.openshift.build.commit.ref"
	// AnnotationSourceLocation is the source repository URL.
	AnnotationSourceLocation = "io.openshift.build.source-location"
	// AnnotationVersions lists versions a component carries, as
	// "name=version,…" (for example "kubernetes=1.29.6").
	AnnotationVersions = "io.openshift.build.versions"
	// AnnotationVersionDisplayNames gives human names for the keys of
	// AnnotationVersions, as "name=Display Name,…".
	AnnotationVersionDisplayNames = "io.openshift.build.version-display-names"
)

// Well-known values in the payload files, checked when parsing so that a file
// of the right name but the wrong content fails loudly.
const (
	// ImageStreamAPIVersion is the apiVersion of image-references.
	ImageStreamAPIVersion = "image.openshift.io/v1"
	// ImageStreamKind is the kind of image-references.
	ImageStreamKind = "ImageStream"
	// FromKindDockerImage is the only from.kind a component may have: the
	// name is then a pull spec.
	FromKindDockerImage = "DockerImage"
	// MetadataKind is the kind of release-metadata.
	MetadataKind = "cincinnati-metadata-v0"
	// MetadataChannelsKey is the release-metadata key listing the update
	// channels, comma-separated.
	MetadataChannelsKey = "io.openshift.upgrades.graph.release.channels"
	// MetadataURLKey is the release-metadata key for the errata URL.
	MetadataURLKey = "url"
	// BootImagesName is the name of the boot images ConfigMap.
	BootImagesName = "coreos-bootimages"
	// BootImagesNamespace is where the machine-config-operator reads it.
	BootImagesNamespace = "openshift-machine-config-operator"
)

// Canonical repositories of OpenShift releases. Payloads always name these,
// whatever registry actually serves the bytes, so they are the sources of
// every release mirror entry.
const (
	// CanonicalReleaseRepository holds release images, tagged
	// <version>-<arch>.
	CanonicalReleaseRepository = "quay.io/openshift-release-dev/ocp-release"
	// CanonicalComponentRepository holds every component, by digest only.
	CanonicalComponentRepository = "quay.io/openshift-release-dev/ocp-v4.0-art-dev"
)

// ImageReferences is release-manifests/image-references: an ImageStream whose
// tags are the release's components. Only the fields oc and hcpmirror read are
// kept; the JSON names match the ImageStream API.
type ImageReferences struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       ImageStreamSpec `json:"spec"`
}

// ObjectMeta is the part of Kubernetes object metadata the payload files use.
// metadata.name of image-references is the release version.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ImageStreamSpec holds the component list.
type ImageStreamSpec struct {
	Tags []TagReference `json:"tags"`
}

// TagReference is one component: its name (the key HyperShift and the
// operators look images up by) and where its image is.
type TagReference struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
	From        *ObjectReference  `json:"from,omitempty"`
}

// ObjectReference points a component at its image. For a release, Kind is
// DockerImage and Name a pull spec, normally repo@sha256:….
type ObjectReference struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Metadata is release-manifests/release-metadata, the release's own view of
// the upgrade graph. Values in Metadata are strings, as Cincinnati serves them.
type Metadata struct {
	Kind     string            `json:"kind"`
	Version  string            `json:"version"`
	Previous []string          `json:"previous,omitempty"`
	Next     []string          `json:"next,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// BootImages is the coreos-bootimages ConfigMap as shipped in the payload.
// data.stream is kept as the JSON text it is; [Payload.Stream] holds it
// decoded.
type BootImages struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   ObjectMeta     `json:"metadata"`
	Data       BootImagesData `json:"data"`
}

// BootImagesData is the ConfigMap's data. Keys newer payloads add (such as
// data.streams in 5.0) are ignored.
type BootImagesData struct {
	// ReleaseVersion is the release that shipped these boot images; the
	// machine-config-operator compares it with the running release.
	ReleaseVersion string `json:"releaseVersion"`
	// Stream is CoreOS stream metadata, JSON encoded.
	Stream string `json:"stream"`
}

// Stream is CoreOS stream metadata: the boot artifacts and cloud images of one
// CoreOS stream, per architecture.
type Stream struct {
	Stream        string                `json:"stream"`
	Metadata      StreamMetadata        `json:"metadata"`
	Architectures map[string]StreamArch `json:"architectures"`
}

// StreamMetadata says when the stream was generated.
type StreamMetadata struct {
	LastModified string `json:"last-modified"`
	Generator    string `json:"generator,omitempty"`
}

// StreamArch is one architecture of a stream, keyed by the CoreOS
// architecture name (x86_64, aarch64, ppc64le, s390x).
type StreamArch struct {
	// Artifacts are downloadable disk images per platform (qemu, metal, …).
	Artifacts map[string]PlatformArtifacts `json:"artifacts"`
	// Images are images published inside other systems (cloud images,
	// container images).
	Images StreamImages `json:"images"`
}

// PlatformArtifacts are one platform's files, by format ("qcow2.gz", "iso")
// and then by file role ("disk", "kernel", …).
type PlatformArtifacts struct {
	Release string                         `json:"release"`
	Formats map[string]map[string]Artifact `json:"formats"`
}

// Artifact is one downloadable file and the checksums that verify it.
type Artifact struct {
	Location           string `json:"location"`
	Signature          string `json:"signature,omitempty"`
	SHA256             string `json:"sha256"`
	UncompressedSHA256 string `json:"uncompressed-sha256,omitempty"`
}

// StreamImages keeps only the KubeVirt image: it is the one boot image a
// disconnected hosted cluster pulls through mirrors. Cloud images (aws, gcp,
// …) are not decoded.
type StreamImages struct {
	KubeVirt *ContainerImage `json:"kubevirt,omitempty"`
}

// ContainerImage is a boot disk shipped as a container image. DigestRef is
// what gets pulled, so it is what must be mirrored; Image is a tag for people.
type ContainerImage struct {
	Release   string `json:"release"`
	Image     string `json:"image"`
	DigestRef string `json:"digest-ref"`
}
