// Package release reads the OpenShift release payload: the one image that
// names every other image a cluster runs.
//
// # What a release image is
//
// A release image is the cluster-version-operator image with one more layer on
// top. Only that last layer matters to a reader: it holds the directory
// release-manifests/, and everything below it is the operator's own file
// system. Reading only the last layer keeps a lookup to one small blob instead
// of the whole image:
//
//	quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64
//	├── config labels
//	│   ├── io.openshift.release                     = 4.16.3
//	│   └── io.openshift.release.base-image-digest   = sha256:… (the CVO image)
//	├── layers 0 … n-2                               cluster-version-operator
//	└── layer n-1                                    release-manifests/
//	    ├── image-references                         ImageStream JSON (required)
//	    ├── release-metadata                         Cincinnati metadata JSON
//	    └── 0000_50_installer_coreos-bootimages.yaml ConfigMap coreos-bootimages
//
// image-references is an image.openshift.io/v1 ImageStream named after the
// version. Each spec.tags entry is one component (etcd, hyperkube, …) whose
// from.name is a digest reference into
// quay.io/openshift-release-dev/ocp-v4.0-art-dev. Those canonical names stay
// in the payload after mirroring: a disconnected cluster finds the bytes by
// rewriting them through its mirror sets, so a payload never names a mirror.
// That is why the release repository (ocp-release) and the component
// repository (ocp-v4.0-art-dev) are the two sources every disconnected
// install must mirror.
//
// release-metadata carries the version, the versions it upgrades from
// (previous) and to (next), and free-form string metadata such as the
// channels (io.openshift.upgrades.graph.release.channels).
//
// The coreos-bootimages ConfigMap (namespace
// openshift-machine-config-operator) holds the CoreOS stream JSON in
// data.stream. For hosted control planes on KubeVirt its
// architectures.<arch>.images.kubevirt.digest-ref names the boot disk
// container image, which is not listed in image-references: a mirror that
// copies only the components misses it.
//
// # Reading
//
// [Parse] takes an already-fetched [v1.Image] (for a manifest list, the
// caller picks the platform's child first) and returns a [Payload]. A missing
// image-references is an error ([ErrNoImageReferences]); the metadata and the
// boot images are optional here because only some callers need them.
// Components referenced by tag instead of digest are accepted and also listed
// in [Payload.Unpinned], so a verify step can flag them: oc refuses them, and
// a tag cannot be checked against the bytes a mirror serves.
//
// # Writing
//
// Synthetic releases for labs and tests are built by
// internal/lab/synthrelease, outside the shipped binary; this package only
// reads.
package release
