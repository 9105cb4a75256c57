// Package registry is the one registry client hcpmirror uses: it reads
// release payloads and checks images through mirrors (release info,
// verify, lint --release and the operator's release lookups), and lends its
// HTTP stack to go-containerregistry through RemoteOptions for the one
// command that pushes (release publish). The Client itself only reads.
//
// In a disconnected cluster every pull is redirected: a resolver (see
// semantics §3.3) turns one requested reference, such as
// quay.io/openshift-release-dev/ocp-release@sha256:…, into an ordered list
// of physical references, mirrors first. FromSources walks that list and
// reports which physical reference served, or, if none did, why each one
// failed. Content fetched by digest is checked against the digest, so a
// mirror cannot substitute an image.
//
// A Client bundles everything that makes a pull behave like podman's on the
// same node:
//
//   - Credentials come from a pull secret and/or auth files, matched per
//     physical reference, most specific key first (host/ns/repo, host/ns,
//     host). The auth file is --authfile, else REGISTRY_AUTH_FILE, else
//     ${XDG_RUNTIME_DIR}/containers/auth.json and ~/.docker/config.json,
//     first match wins, as podman reads them; a Kubernetes Secret of type
//     kubernetes.io/dockerconfigjson is accepted as an auth file. Keys may
//     carry http:// or https:// and old-style trailing paths; docker.io,
//     index.docker.io and registry-1.docker.io are one registry.
//     Credential helpers are not run.
//   - TLS is verified against the system roots, extra CA files, and
//     per-registry certs.d directories. Only registries listed as insecure
//     skip verification or speak plain HTTP; loopback and private addresses
//     get no exception.
//   - Each HTTP attempt has a timeout, and a request as a whole (retries
//     included) may have one too; 408, 429, 5xx and connection failures
//     are retried with exponential backoff, honouring Retry-After up to a
//     cap. WithTrace writes one line per attempt, for -v.
//   - One set of connections is shared by all calls, and requests in
//     flight per registry are bounded.
//
// Every failure is an *Error naming the physical reference and a Kind
// (Unauthorized, TLS, NotFound, Unreachable, RateLimited, Server,
// DigestMismatch, Other). Messages say what to fix: an Unauthorized one
// whether credentials were missing (and where they were looked for) or
// rejected, a TLS one how to trust the certificate. They are redacted: no
// passwords, tokens, Authorization headers or signed URL parameters, so
// they can be shown to users and written to conditions as they are.
//
// The package prints nothing, except the trace lines a caller asks for.
package registry
