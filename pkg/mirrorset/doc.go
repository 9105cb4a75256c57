// Package mirrorset turns ImageContentSourcePolicy, ImageDigestMirrorSet,
// ImageTagMirrorSet objects and a HostedCluster's imageContentSources into the
// one effective registries configuration a node's container runtime would
// build from them, and answers, for any image reference, the exact ordered list
// of physical references the runtime would try.
//
// The rules are containers-registries.conf(5) and the machine-config-operator's
// merge, as written down in docs/semantics.md: sources are string prefixes that
// match at a path boundary ("/", ":" or "@"), the longest prefix wins and hides
// the mirrors of shorter ones, "*.example.com" matches any subdomain but never
// the apex, digest mirrors (ICSP, IDMS) serve only digest pulls and tag mirrors
// (ITMS) only tag pulls, and NeverContactSource removes the source from the
// list. Several sets naming one source are merged into one mirror order by the
// machine-config-operator's topological sort, so the answer does not depend on
// the order objects were created in.
package mirrorset
