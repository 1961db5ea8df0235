#!/usr/bin/env bash
# Installs the Keycloak server distribution (Quarkus) from Maven Central with Maven's own client
# into <cache>/backends/keycloak-<version>/. Idempotent; prints the install directory last.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

dir="$backends_cache/keycloak-$KEYCLOAK_VERSION"
install_once "$dir"
command -v mvn >/dev/null || { echo "install-keycloak: Maven (mvn) is needed" >&2; exit 1; }

# A repository of its own inside the cache, so the tarball is not kept twice in ~/.m2.
repo="$backends_cache/.m2-keycloak"
artifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz"
step keycloak "fetching $artifact with Maven (about 180 MB)"
heartbeat keycloak "$repo/org/keycloak" & hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
mvn -B -ntp -Dmaven.repo.local="$repo" dependency:copy -Dartifact="$artifact" \
  -DoutputDirectory="$dir/download" -Dmdep.overWriteIfNewer=false 2>&1 \
  | grep -E --line-buffered 'BUILD|ERROR|Copying' >&2
kill $hb 2>/dev/null || true
tarball="$dir/download/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
[ -s "$tarball" ] || { echo "install-keycloak: $tarball was not downloaded" >&2; exit 1; }
step keycloak "unpacking"
rm -rf "$dir/server"
mkdir -p "$dir/server"
tar -xzf "$tarball" -C "$dir/server" --strip-components=1
rm -rf "$dir/download" "$repo/org/keycloak/keycloak-quarkus-dist"
touch "$done_mark"
step keycloak "installed in $dir ($(du -sh "$dir" | cut -f1))"
echo "$dir"
