// Package synthrelease builds synthetic but structurally faithful OpenShift
// releases and pushes them to a registry, for the lab binary
// (hcpmirror-lab release publish, hcpmirror-lab demo) and for tests. It is
// not part of the shipped hcpmirror binary, which only reads releases
// (package release).
//
// [Publish] builds the components (a few of them multi-architecture
// indexes), the KubeVirt boot image and the release image whose payload
// lists them, and pushes them where oc-mirror v2 would have put a mirrored
// release: <dest>/openshift/release:<version>-<arch>-<component> and
// <dest>/openshift/release-images:<version>-<arch>. The payload still names
// quay.io, so the result only resolves through the mirror entries that
// [Published] returns — exactly the situation of a disconnected install.
// The same options and seed always push the same digests.
package synthrelease
