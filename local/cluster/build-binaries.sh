#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules at the versions in versions.env,
# into a cache outside the repository keyed by those versions. A second run finds them and
# returns at once. Prints the cache's bin directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
cache="${TOOLFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolfleet}/$key"
bin="$cache/bin"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)

complete() { for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if complete; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-binaries: Go is needed to build the control plane (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$bin" "$cache/src"
# Serialise concurrent builds of the same versions.
exec 9>"$cache/.lock"
flock 9
if complete; then echo "$bin"; exit 0; fi

started=$(date +%s)
step() { printf '[control-plane %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
export GOFLAGS="-mod=mod -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0

# wrapper DIR MODULE VERSION: a module that requires MODULE@VERSION, so that MODULE's own
# replace directives (which break `go install pkg@version`) are not in play.
wrapper() {
  local dir="$cache/src/$1" module=$2 version=$3
  mkdir -p "$dir"
  printf 'module toolfleet.local/controlplane/%s\n\ngo 1.26\n\nrequire %s %s\n' "$1" "$module" "$version" > "$dir/go.mod"
  : > "$dir/go.sum"
}

build() { # DIR OUTPUT-NAME PACKAGE [LDFLAGS]
  local dir="$cache/src/$1" name=$2 pkg=$3 ldflags=${4:-}
  if [ -x "$bin/$name" ]; then step "$name: already built"; return; fi
  step "$name: building $pkg"
  (cd "$dir" && go build -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  step "$name: done ($(du -h "$bin/$name" | cut -f1))"
}

# Kubernetes: every staging module k8s.io/<name> that k8s.io/kubernetes requires at v0.0.0
# is replaced by its published v0.<minor>.<patch> release.
step "kubernetes $KUBERNETES_VERSION: resolving modules"
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
step "kubernetes: $(echo "$staging" | wc -w) staging modules pinned to $staging_version; downloading dependencies"
k8s_pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
          k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
(cd "$cache/src/kubernetes" && go get "${k8s_pkgs[@]/%/@$KUBERNETES_VERSION}" >/dev/null 2>&1 || go get "${k8s_pkgs[@]}")
minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
kver="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
for p in "${k8s_pkgs[@]}"; do build kubernetes "${p##*/}" "$p" "$kver"; done

step "etcd $ETCD_VERSION"
wrapper etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
(cd "$cache/src/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null)
build etcd etcd go.etcd.io/etcd/server/v3

step "kwok $KWOK_VERSION"
wrapper kwok sigs.k8s.io/kwok "$KWOK_VERSION"
(cd "$cache/src/kwok" && go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >/dev/null)
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"

helm_major=${HELM_VERSION%%.*}
step "helm $HELM_VERSION"
wrapper helm "helm.sh/helm/$helm_major" "$HELM_VERSION"
(cd "$cache/src/helm" && go get "helm.sh/helm/$helm_major/cmd/helm@$HELM_VERSION" >/dev/null)
build helm helm "helm.sh/helm/$helm_major/cmd/helm" "-X helm.sh/helm/$helm_major/internal/version.version=$HELM_VERSION"

complete || { echo "build-binaries: some binaries are missing in $bin" >&2; exit 1; }
step "all binaries built in $bin"
echo "$bin"
