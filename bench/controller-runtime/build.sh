#!/usr/bin/env bash
# Builds the fleet rollout's controller-runtime peer (main.go, Go: a benchmark baseline only)
# into a cache outside the repository, keyed by the controller-runtime version, the Go version
# and the source's hash, so it is paid once. Prints the binary's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null || { echo "controller-runtime peer: Go is needed to build it (https://go.dev/dl)" >&2; exit 1; }
version=$(awk '$1 == "sigs.k8s.io/controller-runtime" { print $2 }' "$here/go.mod")
source_hash=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-12)
key="controller-runtime-${version}_$(go env GOVERSION)_${source_hash}"
cache="${TOOLFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolfleet}/$key"
bin="$cache/fleet-peer"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
# Serialise concurrent builds of the same version.
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
started=$(date +%s)
echo "[controller-runtime peer] building with controller-runtime $version (a few minutes the first time)" >&2
(cd "$here" && GOFLAGS="-mod=readonly -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0 go build -ldflags "-s -w" -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
echo "[controller-runtime peer] built in $(( $(date +%s) - started ))s: $bin" >&2
echo "$bin"
