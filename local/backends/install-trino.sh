#!/usr/bin/env bash
# Installs the Trino server tarball from Maven Central with Maven's own client into
# <cache>/backends/trino-<version>/. Idempotent; prints the install directory on its last line.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

dir="$backends_cache/trino-$TRINO_VERSION"
install_once "$dir"
command -v mvn >/dev/null || { echo "install-trino: Maven (mvn) is needed" >&2; exit 1; }

# A repository of its own inside the cache, so the 800 MB tarball is not kept twice in ~/.m2.
repo="$backends_cache/.m2-trino"
artifact="io.trino:trino-server:$TRINO_VERSION:tar.gz"
step trino "fetching $artifact with Maven (about 800 MB)"
heartbeat trino "$repo/io/trino" & hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
mvn -B -ntp -Dmaven.repo.local="$repo" dependency:copy -Dartifact="$artifact" \
  -DoutputDirectory="$dir/download" -Dmdep.overWriteIfNewer=false 2>&1 \
  | grep -E --line-buffered 'BUILD|ERROR|Copying' >&2
kill $hb 2>/dev/null || true
tarball="$dir/download/trino-server-$TRINO_VERSION.tar.gz"
[ -s "$tarball" ] || { echo "install-trino: $tarball was not downloaded" >&2; exit 1; }
step trino "unpacking"
rm -rf "$dir/server"
mkdir -p "$dir/server"
tar -xzf "$tarball" -C "$dir/server" --strip-components=1
# Keep only the plugins the tests use: every plugin in plugin/ is loaded at start, and the
# other ~60 connectors add half a minute and 600 MB for nothing.
for p in "$dir/server/plugin/"*; do
  case "$(basename "$p")" in tpch|tpcds|memory|blackhole|jmx|password-authenticators) ;; *) rm -rf "$p" ;; esac
done
# The tarball and Maven's copy are not needed again.
rm -rf "$dir/download" "$repo/io/trino/trino-server"
touch "$done_mark"
step trino "installed in $dir ($(du -sh "$dir" | cut -f1))"
echo "$dir"
