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
up_pid=
cleanup() {
  [[ -n "$reg_pid" ]] && kill "$reg_pid" 2>/dev/null || true
  [[ -n "$up_pid" ]] && kill "$up_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

banner() { printf '\n######## %s\n\n' "$*"; }

banner "Where would a node pull these from? (examples/mirrorsets)"
"$bin" resolve -f examples/mirrorsets $(grep -v '^#' examples/references.txt)

banner "Mirror from an upstream (playing quay.io, registry.redhat.io and the update service) into a private registry"
"$lab" upstream serve >"$work/upstream.log" 2>&1 &
up_pid=$!
for _ in $(seq 600); do
  grep -q '^ready' "$work/upstream.log" 2>/dev/null && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/upstream.log"; exit 1; }
  sleep 0.1
done
up=$(sed -n 's/^upstream registry serving on \([^ ]*\).*/\1/p' "$work/upstream.log")
graph=$(sed -n 's/^update graph: \([^ ]*\).*/\1/p' "$work/upstream.log")
[[ -n "$up" && -n "$graph" ]] || { cat "$work/upstream.log"; exit 1; }
echo "\$ hcpmirror-lab upstream serve   # registry $up, update graph $graph"
"$lab" registry serve --addr 127.0.0.1:0 --tls --cert-dir "$work/certs" >"$work/serve.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  grep -q 'registry serving on' "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^registry serving on \([^ ]*\).*/\1/p' "$work/serve.log")
[[ -n "$addr" ]] || { cat "$work/serve.log"; exit 1; }
echo "\$ hcpmirror-lab registry serve --addr 127.0.0.1:0 --tls   # the private registry, $addr"
cat >"$work/isc.yaml" <<EOF
apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  platform:
    kubeVirtContainer: true
    channels:
    - name: stable-4.16
  operators:
  - catalog: $up/redhat/redhat-operator-index:v4.16
    packages:
    - name: alpha-operator
      channels:
      - name: stable
    - name: gamma-operator
EOF
echo "\$ cat isc.yaml"
cat "$work/isc.yaml"
access=(--insecure-registry "$up" --ca-file "$work/certs/ca.crt")
echo "\$ hcpmirror mirror -c isc.yaml --workspace ws --graph-url $graph docker://$addr/mirror"
# One line per image when stderr is not a terminal: show the summary.
"$bin" mirror -c "$work/isc.yaml" --workspace "$work/ws" --graph-url "$graph" "${access[@]}" "docker://$addr/mirror" 2>&1 | grep -v '^\[[0-9]*/[0-9]*\] '
echo "\$ ls ws/working-dir/cluster-resources"
ls "$work/ws/working-dir/cluster-resources"
echo "\$ cat ws/working-dir/cluster-resources/cs-redhat-operator-index-v4-16.yaml"
cat "$work/ws/working-dir/cluster-resources/cs-redhat-operator-index-v4-16.yaml"
echo "\$ grep olm-catalogs ws/working-dir/cluster-resources/hostedcluster-imagecontentsources.txt"
grep olm-catalogs "$work/ws/working-dir/cluster-resources/hostedcluster-imagecontentsources.txt"
kill "$up_pid"; up_pid=
echo "(upstream and update graph stopped: from here on only the private registry serves, as inside the data centre)"
echo "\$ hcpmirror verify -c isc.yaml -f ws --graph-url $graph && echo mirrored"
"$bin" verify -c "$work/isc.yaml" -f "$work/ws" --graph-url "$graph" "${access[@]}" && echo "mirrored: every image the configuration names resolves through ws"
echo "\$ hcpmirror lint -f ws"
"$bin" lint -f "$work/ws"
echo "\$ hcpmirror verify --release $up/openshift-release-dev/ocp-release:4.16.3-x86_64 -f ws"
"$bin" verify --release "$up/openshift-release-dev/ocp-release:4.16.3-x86_64" -f "$work/ws" "${access[@]}"
kill "$reg_pid"; reg_pid=

banner "The operator on a local management cluster (kube-apiserver + etcd)"
assets=$(hack/envtest.sh)
KUBEBUILDER_ASSETS="$assets" "$lab" demo
