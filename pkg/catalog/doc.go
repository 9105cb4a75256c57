// Package catalog reads, filters, writes and rebuilds OLM file-based
// catalogs (FBC), the operator catalogs that clusters install operators
// from, so that a mirror holds only the operators an ImageSetConfiguration
// asks for and a cluster is never offered one that was not mirrored.
//
// # What a file-based catalog is
//
// A catalog image (registry.redhat.io/redhat/redhat-operator-index:v4.16)
// runs `opm serve` over a directory named by its image label
// operators.operatorframework.io.index.configs.v1, normally /configs.
// Every file below it is a stream of objects, JSON or YAML (several per
// file), each with a "schema":
//
//	olm.package       one operator: name, defaultChannel, icon, description
//	olm.channel       a named upgrade graph of the package's bundles:
//	                  entries[{name, replaces, skips[], skipRange}]
//	olm.bundle        one version: name, package, image (the bundle image
//	                  holding its manifests), properties (olm.package
//	                  {packageName, version}, olm.gvk, olm.bundle.object, …)
//	                  and relatedImages[{name, image}] (what the operator runs)
//	olm.deprecations  messages for a package, some channels or some bundles
//
// Other schemas exist (olm.template.basic, vendor ones) and are carried
// along untouched, as are object members this package does not know.
//
// # Channels and heads
//
// An entry "replaces" the bundle it is the next version of, and "skips"
// bundles it may upgrade from directly. The channel head is the entry no
// other entry replaces or skips: the newest version, what a new
// Subscription installs. OLM upgrades an installed bundle X to the entry
// that replaces or skips X (or whose skipRange holds X's version); X itself
// need not be in the catalog any more. A valid channel has exactly one head
// and no cycle.
//
// # What this package does
//
// [Load] reads the catalog directory out of a catalog image's layers
// (whiteouts honoured; only that directory is held in memory), [LoadIndex]
// out of a multi-architecture one, and [LoadFS]
// out of a directory. [Filter] keeps what an ImageSetConfiguration's
// operators entry asks for, with oc-mirror v2's rules: channel heads by
// default, version ranges along the replaces chain, and a default channel
// that must survive. [RelatedImages] lists the images to copy: every kept
// bundle image and related image, once. [Write] renders a catalog as
// deterministic JSON, one file per package, and [Rebuild] (or
// [RebuildIndex] for a multi-architecture catalog) replaces a catalog
// image's directory with it, removing opm's stale pre-computed cache.
//
// This is a small reader of its own, not operator-registry's declcfg (which
// links hundreds of packages, gRPC and Kubernetes clients among them). Its
// walks are linear in entries plus skips: oc-mirror's filter ran out of
// memory on channels whose entries skip 90 bundles each (OCPBUGS-52471),
// by re-queueing a node once per incoming edge.
package catalog
