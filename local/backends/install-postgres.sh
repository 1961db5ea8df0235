#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages with apt-get (the server binaries land in
# /usr/lib/postgresql/<major>/bin). Idempotent; prints the binaries' directory on its last line.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

major="${POSTGRES_MAJOR:-15}"
bin="/usr/lib/postgresql/$major/bin"
if [ -x "$bin/postgres" ] && [ -x "$bin/initdb" ]; then echo "$bin"; exit 0; fi
lock "$backends_cache/postgres-$major"
if [ -x "$bin/postgres" ] && [ -x "$bin/initdb" ]; then echo "$bin"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "install-postgres: apt-get needs root; run: sudo apt-get install -y postgresql-$major" >&2; exit 1; }
step postgres "installing postgresql-$major from Debian's packages"
# The package's own cluster is not used: the harness runs its own with initdb.
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "postgresql-$major" >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends "postgresql-$major" >&2; }
[ -x "$bin/postgres" ] || { echo "install-postgres: $bin/postgres missing after apt-get" >&2; exit 1; }
step postgres "installed in $bin"
echo "$bin"
