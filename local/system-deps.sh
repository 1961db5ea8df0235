#!/usr/bin/env bash
# The system programs the tests and builds use, from Debian's packages when missing: openssl (the
# local control plane's certificates), chromium (the registry UI's browser test), runc and umoci
# (running the images as containers), skopeo (copying the image archives to a registry),
# binutils' strip (the images' Node without debug symbols) and dpkg-deb (unpacking the images'
# Debian packages; part of dpkg on every Debian). The real node (local/node/) adds the CNI
# plugins, ipset, iptables, nftables and conntrack.
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v ipset >/dev/null || missing+=(ipset)
command -v iptables >/dev/null || missing+=(iptables)
command -v nft >/dev/null || missing+=(nftables)
command -v conntrack >/dev/null || missing+=(conntrack)
command -v umoci >/dev/null || missing+=(umoci)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v strip >/dev/null || missing+=(binutils)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[system-deps] installing ${missing[*]} from Debian's packages"
if [ "$(id -u)" -ne 0 ]; then
  echo "[system-deps] not root: install ${missing[*]} yourself (apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
