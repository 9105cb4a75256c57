// Package registry runs real OCI distribution registries inside the current
// process: the registry `hcpmirror-lab registry serve` and the demo run, and
// the one the test harness (internal/testing/registry) starts for tests. It
// is not part of the shipped hcpmirror binary.
//
// It starts github.com/distribution/distribution (the reference registry
// implementation) behind an http.Server, with in-memory storage or, with
// WithDataDir, a directory on disk that survives restarts. Options turn on
// TLS (a fresh CA per registry, written to a PEM file so clients can be
// pointed at it; kept and reused in a data directory), htpasswd basic auth (with a containers-auth.json file
// clients can use as --authfile), and handler wrappers in front of the real
// registry. Every registry counts TCP connections, requests per URL path and
// requests per Host header, so a caller can tell where traffic went.
//
// Distribution logs through logrus' standard logger. This package keeps
// those lines out of test output and CLI output: each registry's entries go
// to the writer given with WithLog, or nowhere.
package registry
