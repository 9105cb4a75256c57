// Package ignition is hcpmirror's ignition server: the HTTPS endpoint a
// NodePool's nodes fetch their first-boot Ignition config from, in a hosted
// control plane namespace.
//
// It answers HyperShift's request shape, GET /ignition with
// "Authorization: Bearer <token>", where the token is the data.token of a
// NodePool's token Secret exactly as stored. Everything it reads is watched
// (informers), never fetched per request: the token Secrets (by label), the
// pull-secret Secret (by name), the namespace's ConfigMaps (the live
// hcpmirror-registries overrides and the additional trust bundle) and the
// HostedControlPlane. The payload is built by pkg/ignition from the release
// read through the current overrides (pkg/releaseinfo: mirrors in order,
// NeverContactSource honoured) and cached until one of its inputs changes.
package ignition
