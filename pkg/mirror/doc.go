// Package mirror fills a private registry (or a directory, for an air gap)
// from an ImageSetConfiguration and writes the cluster resources that make
// clusters pull from it.
//
// # Plan
//
// [NewPlan] turns the configuration into a list of [Image] copies, each a
// source reference and a destination repository and tag, laid out as
// oc-mirror v2 lays them out so that a registry filled by either tool serves
// clusters configured by the other:
//
//	release image   <dest>/openshift/release-images:<version>-<arch>
//	component       <dest>/openshift/release:<version>-<arch>-<component>
//	KubeVirt image  <dest>/openshift/release:<version>-<arch>-kubevirt-container
//	anything else   <dest>/<source path without its host>:<tag or sha256-<hex>>
//
// Releases come from update channels (pkg/cincinnati) or
// mirror.platform.release; each release image is read (only its last layer,
// pkg/release) for its components and its KubeVirt boot image. Images
// matching a blockedImages expression are dropped from the plan and listed
// in [Plan.Blocked].
//
// # Copy
//
// [Copy] copies a plan with go-containerregistry underneath: manifests and
// indexes are copied byte for byte (digests preserved, indexes whole); each
// blob is sent at most once per destination repository and mounted from a
// repository of the same registry that already has it; an image whose
// destination tag already points at the source digest costs one HEAD; blobs
// go first, then child manifests, then the index, and the tag last, so an
// interrupted run leaves nothing a cluster could pull half of. A failing
// image does not stop the others; each failure names the side that failed.
//
// # Cluster resources
//
// [Workspace] keeps a record of everything mirrored through it and writes,
// after every run, ImageDigestMirrorSets and ImageTagMirrorSets for all of
// it (cumulative: applying the newest output is always enough), the
// HostedCluster imageContentSources snippet, mapping.txt and the run report,
// into <workspace>/working-dir/cluster-resources/.
//
// The package prints nothing; progress is reported through [Progress].
package mirror
