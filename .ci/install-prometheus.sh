#!/usr/bin/env bash
# Installs what PrometheusIT and PrometheusRulesTests run: Debian's prometheus package, which
# brings the server (/usr/bin/prometheus, started by the test with its own configuration and
# storage on a free port) and promtool (/usr/bin/promtool: check rules, test rules, check
# metrics). Does nothing when both are there. Needs root (apt-get).
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
	echo "install-prometheus: prometheus and promtool are installed, nothing to do"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-prometheus: prometheus or promtool is missing; run this script as root to install them with apt-get" >&2
	exit 1
fi
echo "install-prometheus: installing the Debian package prometheus"
apt-get update
# Where an init system runs, apt may also start the package's own service on port 9090: the
# tests never use it, they start and end their own instance.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
echo "install-prometheus: installed $(prometheus --version 2>&1 | head -n 1)"
