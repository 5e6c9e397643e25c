#!/usr/bin/env bash
# Rolling restart behind HAProxy (or nginx): instances of graceful-sequence, restarted one after
# the other under keep-alive load, long-polls, an SSE client and a headless browser; writes
# docs/rolling-restart.md. See bench/README.md.
#
#   bench/rolling-restart.sh                           two instances, each with a sequence of its own, behind
#                                                      HAProxy (under 3 minutes on 2 cores)
#   bench/rolling-restart.sh --proxy nginx             the same behind nginx; writes the doc's nginx part
#   bench/rolling-restart.sh --cluster                 cluster mode: a redis-server of its own and three
#                                                      instances serving one sequence, behind HAProxy; checks
#                                                      the cluster's history; writes the doc's cluster part
#   bench/rolling-restart.sh --cluster --proxy nginx   the same behind nginx
#   bench/rolling-restart.sh --no-doc                  any of these, leaving docs/rolling-restart.md alone
#   bench/rolling-restart.sh --report                  run nothing: write docs/rolling-restart.md again from the
#                                                      results each part keeps in bench/rolling-restart-results/
#   bench/rolling-restart.sh --help                    every option of bench/rolling_restart.py
#
# Installs what is missing with apt (root, Debian): haproxy (.ci/install-haproxy.sh) or nginx
# (.ci/install-nginx.sh), redis-server and redis-cli with --cluster (.ci/install-redis.sh), wrk,
# chromium and chromium-driver, and golang-go for the load tool (bench/build-load.sh builds its
# SSE client and direct streams). Builds target/graceful-sequence.jar unless it is there (delete
# it to run a newer build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"

# Writing the doc again needs none of the programs below
for argument in "$@"; do
	if [[ "${argument}" == "--report" || "${argument}" == --report=* ]]; then
		exec python3 "${here}/rolling_restart.py" "$@"
	fi
done

apt_updated=""
apt_install() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "Missing $*; run this script as root to install it with apt-get, or install it yourself" >&2
		exit 1
	fi
	if [[ -z "${apt_updated}" ]]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

proxy=haproxy
cluster=""
previous=""
for argument in "$@"; do
	[[ "${previous}" == "--proxy" ]] && proxy="${argument}"
	[[ "${argument}" == --proxy=* ]] && proxy="${argument#--proxy=}"
	[[ "${argument}" == "--cluster" ]] && cluster=1
	previous="${argument}"
done
"${root}/.ci/install-${proxy}.sh" >/dev/null
[[ -z "${cluster}" ]] || "${root}/.ci/install-redis.sh" >/dev/null
command -v wrk >/dev/null 2>&1 || { echo "Installing wrk"; apt_install wrk; }
[[ -x /usr/bin/chromium ]] || { echo "Installing chromium"; apt_install chromium; }
[[ -x /usr/bin/chromedriver ]] || { echo "Installing chromium-driver"; apt_install chromium-driver; }
# The SSE client and the direct streams: load record
"${here}/build-load.sh"

jar="${root}/target/graceful-sequence.jar"
if [[ ! -f "${jar}" ]]; then
	echo "Building ${jar}"
	(cd "${root}" && ./mvnw -B -q -DskipTests -Djacoco.skip=true package)
fi

ROLLING_RESTART_COMMAND="bench/rolling-restart.sh${*:+ $*}" PATH="${PATH}:/usr/sbin" \
	python3 "${here}/rolling_restart.py" "$@" &
scenario_pid=$!
# The Python script ends every process it starts by PID; if this script is stopped, stop it
trap 'kill -TERM "${scenario_pid}" 2>/dev/null || true; wait "${scenario_pid}" 2>/dev/null || true' INT TERM
wait "${scenario_pid}"
