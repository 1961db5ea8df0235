# Shared by the backend install scripts: versions, the cache directory, a lock, progress lines.
# Sourced, not run.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

backends_cache="${TOOLFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolfleet}/backends"
started=$(date +%s)

# step NAME MESSAGE...: one progress line on stderr, with seconds since the script began.
step() { local name=$1; shift; printf '[%s %4ss] %s\n' "$name" "$(( $(date +%s) - started ))" "$*" >&2; }

# lock DIR: serialise concurrent installs of the same backend version (released at exit).
lock() { mkdir -p "$1"; exec 9>"$1.lock"; flock 9; }

# install_once DIR: when DIR's install is complete, print DIR and end the script; otherwise take
# the lock, look again (another process may have finished it meanwhile), and go on. The script
# touches "$done_mark" once its install is whole.
install_once() {
  done_mark="$1/.installed"
  if [ -e "$done_mark" ]; then echo "$1"; exit 0; fi
  lock "$1"
  if [ -e "$done_mark" ]; then echo "$1"; exit 0; fi
}

# fresh_venv NAME DIR: a new virtualenv at DIR/venv, from a Python 3.10–3.13.
fresh_venv() {
  local py
  py=$(python_for_venv)
  step "$1" "creating a virtualenv with $py"
  rm -rf "$2/venv"
  "$py" -m venv "$2/venv"
}

# heartbeat NAME PATH: print PATH's size every 10 s until killed, for long downloads whose
# own client prints nothing while it works.
heartbeat() {
  local name=$1 path=$2
  while sleep 10; do step "$name" "… still working ($(du -sh "$path" 2>/dev/null | cut -f1) in $path)"; done
}

# python_for_venv: a Python 3.10–3.13 to build virtualenvs with.
python_for_venv() {
  local p
  for p in "${TOOLFLEET_PYTHON:-}" python3.11 python3.12 python3 ; do
    [ -n "$p" ] && command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(0 if (3,10) <= sys.version_info[:2] <= (3,13) else 1)' 2>/dev/null && { command -v "$p"; return; }
  done
  echo "no Python 3.10-3.13 found (set TOOLFLEET_PYTHON)" >&2; return 1
}
