#!/usr/bin/env bash
# Builds kube-apiserver and etcd for controller-runtime's envtest from the Go module
# proxy (no prebuilt binaries can be downloaded in a disconnected lab) and prints the
# folder to use as KUBEBUILDER_ASSETS. The binaries are cached outside the checkout,
# keyed by version, so only the first run pays the ~13 minutes.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.7.0}"
CACHE="${HCPMIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hcpmirror}"
DEST="$CACHE/envtest/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"

if [[ -x "$DEST/kube-apiserver" && -x "$DEST/etcd" ]]; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$DEST"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice
  externaljwt kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl
  kubelet metrics mount-utils pod-security-admission sample-apiserver streaming)

build_apiserver() {
  local dir="$work/apiserver"
  mkdir -p "$dir"
  {
    echo "module hcpmirror.local/envtest-apiserver"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    for m in "${staging[@]}"; do
      echo "replace k8s.io/$m => k8s.io/$m v0.${K8S_VERSION#1.}"
    done
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >&2 && \
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$DEST/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2)
  mv "$DEST/kube-apiserver.tmp" "$DEST/kube-apiserver"
}

build_etcd() {
  local dir="$work/etcd"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module hcpmirror.local/envtest-etcd

go 1.26

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
MOD
  cat >"$dir/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >&2 && \
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$DEST/etcd.tmp" . >&2)
  mv "$DEST/etcd.tmp" "$DEST/etcd"
}

echo "building envtest binaries into $DEST (first time only, ~13 minutes on 2 cores)" >&2
[[ -x "$DEST/etcd" ]] || build_etcd
[[ -x "$DEST/kube-apiserver" ]] || build_apiserver
echo "$DEST"
