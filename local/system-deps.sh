#!/usr/bin/env bash
# The system programs the tests use, from Debian's packages when missing: openssl (the local
# control plane's certificates) and chromium (the registry UI's browser test).
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[system-deps] installing ${missing[*]} from Debian's packages"
if [ "$(id -u)" -ne 0 ]; then
  echo "[system-deps] not root: install ${missing[*]} yourself (apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
