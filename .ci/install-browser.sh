#!/usr/bin/env bash
# Installs what the browser tests (LivePageBrowserIT) drive: Debian's chromium and
# chromium-driver, at /usr/bin/chromium and /usr/bin/chromedriver. Does nothing when both
# are there. Needs root (apt-get).
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
	echo "install-browser: chromium and chromedriver are installed, nothing to do"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-browser: chromium or chromedriver is missing; run this script as root to install them with apt-get" >&2
	exit 1
fi
echo "install-browser: installing the Debian packages chromium and chromium-driver"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null) and $(/usr/bin/chromedriver --version)"
