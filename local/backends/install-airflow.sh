#!/usr/bin/env bash
# Installs Apache Airflow 3 from PyPI into a virtualenv at <cache>/backends/airflow-<version>/.
# Airflow's official constraints files live on GitHub, which CI cannot reach, so the full
# dependency set is pinned here instead (airflow-requirements.txt, a `pip freeze` of a
# working install). Idempotent; prints the install directory on its last line.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

dir="$backends_cache/airflow-$AIRFLOW_VERSION"
install_once "$dir"

fresh_venv airflow "$dir"
pin=()
if [ -s "$here/airflow-requirements.txt" ]; then pin=(-c "$here/airflow-requirements.txt"); fi
step airflow "installing apache-airflow==$AIRFLOW_VERSION from PyPI ${pin:+(pinned by airflow-requirements.txt)}"
"$dir/venv/bin/pip" install --progress-bar off "apache-airflow==$AIRFLOW_VERSION" "${pin[@]}" 2>&1 \
  | grep -E --line-buffered '^(Collecting|Successfully|ERROR)' | sed -u 's/^/  /' >&2
"$dir/venv/bin/airflow" version >/dev/null
touch "$done_mark"
step airflow "installed in $dir ($(du -sh "$dir" | cut -f1))"
echo "$dir"
