// Package registry runs real OCI distribution registries inside the current
// process, on 127.0.0.1, for tests and for the demo.
//
// hcpmirror's promise is that every image comes from a private mirror and
// that a source such as quay.io is never contacted. Mocks cannot prove that:
// a registry client has to negotiate auth, TLS, redirects and retries with a
// server that behaves like the ones customers run. This package therefore
// starts github.com/distribution/distribution (the reference registry
// implementation) with in-memory storage, behind an http.Server on a random
// loopback port, so tests can push images with any client and pull them back
// through hcpmirror's own client.
//
// Each registry is independent: start one per mirror and one per source.
// Options turn on TLS (a fresh CA per registry, written to a PEM file so
// clients can be pointed at it), htpasswd basic auth, and handler wrappers
// that inject faults (rate limits, server errors, dropped connections,
// delays) in front of the real registry. Every registry counts TCP
// connections, requests per URL path and requests per Host header, so a test
// can assert where traffic went.
//
// Unreachable gives the opposite: an address that must never be dialled. A
// test names it as the source of a mirrored image and fails if any connection
// reaches it, which is how "never contact the source" is proven.
//
// Distribution logs through logrus' standard logger. This package keeps
// those lines out of test output and CLI output: each registry's entries go
// to the writer given with WithLog, or nowhere.
package registry
