#!/usr/bin/env bash
# Installs what the cluster-mode tests run through the RedisServer fixture (RedisServerIT and the
# process-level tests of sequence.cluster): Debian's redis-server,
# redis-sentinel and redis-tools packages, at /usr/bin/redis-server, /usr/bin/redis-sentinel and
# /usr/bin/redis-cli. Does nothing when all three are there. Needs root (apt-get). Where an init
# system runs, apt may also start the package's own redis-server service on port 6379: the tests
# never use it, each starts its own redis-server on a free loopback port, in its own directory,
# and ends it.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 \
	&& command -v redis-cli >/dev/null 2>&1; then
	echo "install-redis: redis-server, redis-sentinel and redis-cli are installed, nothing to do"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-redis: redis-server, redis-sentinel or redis-cli is missing; run this script as root to install them with apt-get" >&2
	exit 1
fi
echo "install-redis: installing the Debian packages redis-server, redis-sentinel and redis-tools"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-sentinel redis-tools
echo "install-redis: installed $(redis-server --version | head -n 1)"
