// Package registry is the test harness around real OCI distribution
// registries on 127.0.0.1 (internal/lab/registry runs them).
//
// hcpmirror's promise is that every image comes from a private mirror and
// that a source such as quay.io is never contacted. Mocks cannot prove that:
// a registry client has to negotiate auth, TLS, redirects and retries with a
// server that behaves like the ones customers run. Tests therefore Start a
// real registry per mirror and per source, push images with any client and
// pull them back through hcpmirror's own client. The options, the Registry
// type and Listen are the lab registry's, re-exported here so tests need one
// import.
//
// What only tests need lives here: Start, bound to a test's lifetime;
// handler wrappers that inject faults (rate limits, server errors, dropped
// connections, delays) in front of the real registry; and Unreachable, an
// address that must never be dialled. A test names it as the source of a
// mirrored image and fails if any connection reaches it, which is how "never
// contact the source" is proven.
package registry
