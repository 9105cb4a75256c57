// Package registry is the one registry client hcpmirror uses, for reading
// release payloads and catalogs through mirrors and for pushing mirrored
// images.
//
// In a disconnected cluster every pull is redirected: a resolver (see
// semantics §3.3) turns one requested reference, such as
// quay.io/openshift-release-dev/ocp-release@sha256:…, into an ordered list
// of physical references, mirrors first. The FromSources calls walk that
// list and report which physical reference served, or, if none did, why
// each one failed. Content fetched by digest is checked against the
// digest, so a mirror cannot substitute an image.
//
// A Client bundles everything that makes a pull behave like podman's on the
// same node:
//
//   - Credentials come from a pull secret and/or an auth file, matched per
//     physical reference, most specific key first (host/ns/repo, host/ns,
//     host). Keys may carry http:// or https:// and old-style trailing
//     paths; docker.io, index.docker.io and registry-1.docker.io are one
//     registry. Credential helpers are not run.
//   - TLS is verified against the system roots, extra CA files, and
//     per-registry certs.d directories. Only registries listed as insecure
//     skip verification or speak plain HTTP; loopback and private addresses
//     get no exception.
//   - Each HTTP attempt has a timeout; 408, 429, 5xx and connection
//     failures are retried with exponential backoff, honouring
//     Retry-After up to a cap.
//   - One set of connections is shared by all calls, and requests in
//     flight per registry are bounded.
//
// Every failure is an *Error naming the physical reference and a Kind
// (Unauthorized, TLS, NotFound, Unreachable, RateLimited, Server,
// DigestMismatch, Other). Messages are redacted: no passwords, tokens,
// Authorization headers or signed URL parameters, so they can be shown to
// users and written to conditions as they are.
//
// The package prints nothing.
package registry
