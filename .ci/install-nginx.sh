#!/usr/bin/env bash
# Installs what NginxConfigTests and NginxIT run (nginx -t on deploy/nginx/nginx.conf, and nginx
# in front of the packaged jar) and what bench/rolling-restart.sh --proxy nginx puts in front of
# the instances: Debian's nginx-light package, at /usr/sbin/nginx. Does nothing when it is
# there. Needs root (apt-get). The package may start Debian's own nginx service on port 80; the
# tests and the bench run nginx of their own, on free ports, and leave that one alone.
set -euo pipefail

if [[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1; then
	echo "install-nginx: nginx is installed, nothing to do"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-nginx: nginx is missing; run this script as root to install it with apt-get" >&2
	exit 1
fi
echo "install-nginx: installing the Debian package nginx-light"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light
echo "install-nginx: installed $(/usr/sbin/nginx -v 2>&1 | head -n 1)"
