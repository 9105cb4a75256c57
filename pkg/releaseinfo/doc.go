// Package releaseinfo answers "what is in this OpenShift release, and can a
// disconnected cluster pull all of it?" the way the cluster's own nodes
// would, and remembers the answer.
//
// # Looking a release up
//
// A HostedCluster names its release by a canonical reference such as
// quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64 or
// quay.io/openshift-release-dev/ocp-release@sha256:…. In a disconnected
// environment quay.io is unreachable: the bytes live in a private mirror
// that only the management cluster's mirror sets know about. [Provider.Lookup]
// therefore never reads a reference directly. It resolves it with
// [mirrorset.Config] — the one matcher every hcpmirror component shares, so
// the answer is the container runtime's — and walks the resulting pull
// sources in order:
//
//   - mirrors first, then the source, exactly as CRI-O would try them;
//   - a source under NeverContactSource is not in the list at all, so it is
//     never contacted, not even when every mirror fails;
//   - digest mirrors serve digest references only and tag mirrors tag
//     references only (a tag reference with only an ImageDigestMirrorSet
//     goes to the source, as on a node);
//   - a manifest fetched by digest must hash to that digest, or the mirror
//     is passed over.
//
// The first source that serves the manifest and the payload wins. A
// manifest list is narrowed to one platform (linux/amd64 unless
// [WithPlatform] says otherwise), and the payload is decoded by
// [release.Parse].
//
// The [Release] returned speaks canonical names only: Image is the source
// repository at the resolved digest, and component references are the
// payload's own, because that is what a cluster writes into pod specs and
// what mirror sets rewrite on the node. The one physical name kept is
// ServedBy, the pull source that answered, so a user can see which mirror is
// in use.
//
// # Caching
//
// Reconcilers ask for the same release on every pass, and a release lookup
// is several round trips plus a layer download. Answers are cached per
// (reference, pull-secret identity, pull sources, platform): the pull secret
// is part of the key (as a SHA-256, never the bytes) so that a cluster
// without the right credentials can never read an answer fetched with
// someone else's; the pull sources are part of it so that a mirror-set
// change that moves an image to another mirror, or blocks it, takes effect
// at once. Digest references name immutable content and are kept long; tag
// references can move and expire after a TTL. The cache is an LRU bounded
// by entry count. Concurrent lookups of one key share one fetch, and a fetch
// that every caller has abandoned is cancelled.
//
// # Verifying
//
// [Provider.Verify] checks that every image a release needs — the release
// image, each component and the KubeVirt boot image, which image-references
// does not list — is reachable through the mirrors, with a HEAD request per
// image through its pull sources. Its report says, for each image that no
// source served, which source entry covered it and why each attempt failed.
//
// The package prints nothing; the CLI decides what to show.
package releaseinfo
