#!/usr/bin/env bash
# make demo: hcpmirror's main job on an embedded default, touching nothing
# but 127.0.0.1. First the commands a person types (README), then the operator
# on a local kube-apiserver.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/hcpmirror
lab=./bin/hcpmirror-lab
work=$(mktemp -d)
reg_pid=
cleanup() {
  [[ -n "$reg_pid" ]] && kill "$reg_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

banner() { printf '\n######## %s\n\n' "$*"; }

banner "Where would a node pull these from? (examples/mirrorsets)"
"$bin" resolve -f examples/mirrorsets $(grep -v '^#' examples/references.txt)

banner "A private registry, a mirrored 190-component release, lint and verify"
"$lab" registry serve --addr 127.0.0.1:0 --tls --cert-dir "$work/certs" >"$work/serve.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  grep -q 'registry serving on' "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^registry serving on \([^ ]*\).*/\1/p' "$work/serve.log")
[[ -n "$addr" ]] || { cat "$work/serve.log"; exit 1; }
echo "\$ hcpmirror-lab registry serve --addr 127.0.0.1:0 --tls   # $addr"
echo "\$ hcpmirror-lab release publish --to $addr --mirrorsets-out mirrorsets.yaml"
"$lab" release publish --to "$addr" --ca-file "$work/certs/ca.crt" --mirrorsets-out "$work/mirrorsets.yaml" | grep -v '^#' || true
echo "\$ hcpmirror lint -f mirrorsets.yaml"
"$bin" lint -f "$work/mirrorsets.yaml"
echo "\$ hcpmirror verify --release quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64 -f mirrorsets.yaml"
"$bin" verify --release quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64 -f "$work/mirrorsets.yaml" --ca-file "$work/certs/ca.crt"
kill "$reg_pid"; reg_pid=

banner "The operator on a local management cluster (kube-apiserver + etcd)"
assets=$(hack/envtest.sh)
KUBEBUILDER_ASSETS="$assets" "$lab" demo
