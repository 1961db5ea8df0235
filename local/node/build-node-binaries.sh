#!/usr/bin/env bash
# Builds the real node's binaries from their Go modules at the versions in versions.env (and
# the control plane's Kubernetes version): containerd with ctr and its runc shim, kubelet,
# kube-proxy, kube-router, and the sandbox (pause) program. Into a cache outside the repository
# keyed by those versions; a second run finds them and returns at once. Prints the cache's bin
# directory on its last line. runc, the CNI plugins and ipset come from Debian (system-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../cluster/versions.env
. "$here/../cluster/versions.env"
# shellcheck source=versions.env
. "$here/versions.env"

key="node_k8s-${KUBERNETES_VERSION}_containerd-${CONTAINERD_VERSION}_kube-router-${KUBE_ROUTER_VERSION}_pause-$(sha256sum "$here/pause/main.go" | cut -c1-12)"
cache="${TOOLFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolfleet}/$key"
bin="$cache/bin"
binaries=(containerd ctr containerd-shim-runc-v2 kubelet kube-proxy kube-router pause)

complete() { for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if complete; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-node-binaries: Go is needed to build the real node (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$bin" "$cache/src"
# Serialise concurrent builds of the same versions.
exec 9>"$cache/.lock"
flock 9
if complete; then echo "$bin"; exit 0; fi

started=$(date +%s)
step() { printf '[real-node %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
# Static binaries: the pause program runs in an empty image, the rest need no C library calls.
export GOFLAGS="-mod=mod -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0

# wrapper DIR MODULE VERSION: a module that requires MODULE@VERSION, so that MODULE's own
# replace directives (which break `go install pkg@version`) are not in play.
wrapper() {
  local dir="$cache/src/$1" module=$2 version=$3
  mkdir -p "$dir"
  printf 'module toolfleet.local/node/%s\n\ngo 1.26\n\nrequire %s %s\n' "$1" "$module" "$version" > "$dir/go.mod"
  : > "$dir/go.sum"
}

build() { # DIR OUTPUT-NAME PACKAGE [LDFLAGS] [TAGS]
  local dir="$cache/src/$1" name=$2 pkg=$3 ldflags=${4:-} tags=${5:-}
  if [ -x "$bin/$name" ]; then step "$name: already built"; return; fi
  step "$name: building $pkg"
  (cd "$dir" && go build -tags "$tags" -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  step "$name: done ($(du -h "$bin/$name" | cut -f1))"
}

step "pause (sandbox program)"
mkdir -p "$cache/src/pause"
cp "$here/pause/main.go" "$cache/src/pause/main.go"
printf 'module toolfleet.local/node/pause\n\ngo 1.26\n' > "$cache/src/pause/go.mod"
build pause pause .

# containerd: the daemon, its CLI (to import local images) and the runc shim every pod runs under.
# Without cgo the btrfs and devmapper snapshotters are left out; the node uses overlayfs.
step "containerd $CONTAINERD_VERSION: resolving modules"
wrapper containerd github.com/containerd/containerd/v2 "$CONTAINERD_VERSION"
ctr_pkgs=(github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/ctr
          github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)
(cd "$cache/src/containerd" && go get "${ctr_pkgs[@]/%/@$CONTAINERD_VERSION}" >/dev/null 2>&1 || go get "${ctr_pkgs[@]}")
cver="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
for p in "${ctr_pkgs[@]}"; do build containerd "${p##*/}" "$p" "$cver" "no_btrfs no_devmapper no_zfs"; done

# kubelet and kube-proxy: the control plane's wrapper-module technique, in a module of their own
# (every staging module k8s.io/<name> pinned to its published v0.<minor>.<patch>).
step "kubernetes $KUBERNETES_VERSION (node): resolving modules"
wrapper kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
staging_version="v0.${KUBERNETES_VERSION#v1.}"
kmod=$(cd "$cache/src/kubernetes" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
staging=$(grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$kmod" | awk '{print $1}')
{
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $staging_version"; done
  echo ")"
} >> "$cache/src/kubernetes/go.mod"
k8s_pkgs=(k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
(cd "$cache/src/kubernetes" && go get "${k8s_pkgs[@]/%/@$KUBERNETES_VERSION}" >/dev/null 2>&1 || go get "${k8s_pkgs[@]}")
minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
kver="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
for p in "${k8s_pkgs[@]}"; do build kubernetes "${p##*/}" "$p" "$kver"; done

step "kube-router $KUBE_ROUTER_VERSION"
wrapper kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION"
(cd "$cache/src/kube-router" && go get "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" >/dev/null)
build kube-router kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router

complete || { echo "build-node-binaries: some binaries are missing in $bin" >&2; exit 1; }
step "all node binaries built in $bin"
echo "$bin"
