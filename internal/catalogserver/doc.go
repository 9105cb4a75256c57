// Package catalogserver is hcpmirror's OLM catalog server: what `opm serve`
// is to a catalog image, run in a hosted control plane namespace by the
// catalog Deployments (`hcpmirror catalog-server`), from the shipped binary
// rather than from the catalog image itself.
//
// # What OLM asks
//
// A CatalogSource of type grpc points OLM at a Service on port 50051 that
// answers operator-registry's registry API: service api.Registry
// (ListPackages, GetPackage, GetBundle, …, ListBundles) and the standard
// grpc.health.v1.Health/Check. This package answers both over one
// cleartext HTTP/2 (h2c) port with net/http, gRPC's framing (a 5-byte
// prefix per message, grpc-status and grpc-message trailers) and messages
// encoded field by field with protowire, so the binary links neither
// google.golang.org/grpc nor operator-registry (the oracle tests do).
//
// # What it answers
//
// The view is built from a file-based catalog read by pkg/catalog, with
// the semantics of operator-registry's declcfg→model→api conversion as
// `opm serve` serves it (its cache): one API bundle per channel a bundle
// is in, with that channel's replaces, skips and skipRange; provided and
// required APIs from olm.gvk and olm.gvk.required; dependencies from
// olm.gvk.required and olm.package.required; properties compacted, without
// olm.bundle.object and olm.csv.metadata; the CSV from the bundle's
// olm.bundle.object manifests, or built from olm.csv.metadata as opm
// builds it; deprecations of packages, channels and bundles. ListBundles
// leaves csvJson and object out of bundles that have a bundle image, and
// single-bundle answers leave replaces and skips out, as opm does. Errors
// carry opm's messages with its status code (Unknown). A catalog opm would
// refuse to serve (no single channel head, a bundle in no channel, a
// version that is not semver, …) is refused too.
//
// # Health
//
// Check answers NOT_SERVING until a catalog is loaded, then SERVING: a
// readiness probe (kubelet's grpc probe) keeps the Service's endpoints
// empty until then. A catalog that later fails to load again keeps the
// last good one in service.
package catalogserver
