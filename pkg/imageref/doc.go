// Package imageref parses container image references exactly as container
// runtimes (containers/image) do, because mirror matching is defined on the
// runtime's normalised form: a reference that a runtime reads as
// "docker.io/library/busybox" must be matched as that, not as "busybox".
//
// The grammar is [domain[:port]/]path[:tag][@digest]. The first component is a
// domain only if it contains "." or ":" or is "localhost"; otherwise the whole
// string is a Docker Hub path. Docker Hub names are folded to "docker.io" and
// one-component paths get "library/". Ports are never added or removed, and
// nothing is lowercased.
//
// Two traps follow from the grammar and bite people writing mirror sets: a bare
// host such as "quay.io" parses as the Docker Hub image docker.io/library/quay.io,
// and "host:5000" parses as docker.io/library/host with tag 5000. That is why
// mirror-set sources are treated as string prefixes, never as references.
//
// go-containerregistry's pkg/name, used at the transport edge, normalises
// differently (index.docker.io, implicit :latest); never match on its output.
package imageref
