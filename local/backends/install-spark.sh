#!/usr/bin/env bash
# Installs PySpark (which carries Spark's jars, spark-submit and spark-class) from PyPI into a
# virtualenv at <cache>/backends/spark-<version>/. Needs Java 17 or 21. Idempotent; prints
# the install directory on its last line.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

dir="$backends_cache/spark-$PYSPARK_VERSION"
install_once "$dir"

fresh_venv spark "$dir"
step spark "installing pyspark==$PYSPARK_VERSION from PyPI (about 400 MB)"
heartbeat spark "$dir/venv" & hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
"$dir/venv/bin/pip" install --progress-bar off "pyspark==$PYSPARK_VERSION" 2>&1 \
  | grep -E --line-buffered '^(Collecting|Successfully|ERROR)' | sed -u 's/^/  /' >&2
kill $hb 2>/dev/null || true
"$dir/venv/bin/python" -c 'import pyspark' 
touch "$done_mark"
step spark "installed in $dir ($(du -sh "$dir" | cut -f1))"
echo "$dir"
