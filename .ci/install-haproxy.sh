#!/usr/bin/env bash
# Installs what HaproxyConfigTests runs to validate deploy/haproxy/haproxy.cfg (haproxy -c)
# and what bench/rolling-restart.sh puts in front of the instances: Debian's haproxy package,
# at /usr/sbin/haproxy. Does nothing when it is there. Needs root (apt-get).
set -euo pipefail

if [[ -x /usr/sbin/haproxy ]] || command -v haproxy >/dev/null 2>&1; then
	echo "install-haproxy: haproxy is installed, nothing to do"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-haproxy: haproxy is missing; run this script as root to install it with apt-get" >&2
	exit 1
fi
echo "install-haproxy: installing the Debian package haproxy"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy
echo "install-haproxy: installed $(haproxy -v | head -n 1)"
