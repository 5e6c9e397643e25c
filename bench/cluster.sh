#!/usr/bin/env bash
# Cluster mode against local mode, side by side in one run (bench/cluster.py): two instances of
# the jar in each mode, interleaved rounds; in cluster mode they share a redis-server of the run's
# own on a free loopback port; in replicas mode (cluster mode with sequence.cluster.replicas=1)
# that primary has two replicas of its own. Per round and mode: /sequence/last throughput on
# instance 2 (the follower) with bench.py's wrk runs (not in replicas mode); in cluster and
# replicas mode the Redis commands and bytes of each instance per value; 1,000 streams on each
# instance at 200 ms with `load fanout` (lag), and with Redis each instance's
# sequence.cluster.delay (and the commit stalls). A full run with the defaults rewrites
# docs/benchmarks.md (its cluster section) and bench/cluster-results.json. See bench/README.md.
#
#   bench/cluster.sh                  4 rounds, about 4 to 5 minutes a round on 2 cores
#   bench/cluster.sh --rounds 2
#   bench/cluster.sh --modes local,cluster    without replicas mode (docs stay as they are)
#   bench/cluster.sh --quick          one short round to check the harness; docs stay as they are
#   bench/cluster.sh --redis-hz 100   an experiment (results in bench/out only)
#   bench/cluster.sh --report         rewrite docs/benchmarks.md from the committed results
#   bench/cluster.sh --render FILE    print the section of an earlier run's raw results
#
# Environment: JAVA17, ROUNDS, QUIET_BUSY, QUIET_WAIT. Every process is started by the Python
# harness and ended by its PID; loopback only; every phase bounded in time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"
out="${here}/out"
mkdir -p "${out}"

# The page's chart is drawn with matplotlib, as bench/run.sh draws it: Debian's python3-matplotlib
# lives under /usr/bin/python3
python="python3"
if /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
	python="/usr/bin/python3"
fi
for arg in "$@"; do
	if [[ "${arg}" == "--report" || "${arg}" == "--render" ]]; then
		exec "${python}" "${here}/cluster.py" "$@"
	fi
done

apt_updated=""
apt_install() {
	if [[ -z "${apt_updated}" ]]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v wrk >/dev/null 2>&1 || { echo "Installing wrk"; apt_install wrk; }
command -v ss >/dev/null 2>&1 || { echo "Installing iproute2 (ss)"; apt_install iproute2; }
command -v redis-server >/dev/null 2>&1 || "${root}/.ci/install-redis.sh"
if ! /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
	echo "Installing python3-matplotlib (for the chart of docs/benchmarks.md, which a full run rewrites)"
	apt_install python3-matplotlib || true
	if /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
		python="/usr/bin/python3"
	fi
fi

# The fan-out client: load fanout
"${here}/build-load.sh"

jar="${root}/target/graceful-sequence.jar"
if [[ ! -f "${jar}" ]]; then
	echo "Building ${jar}"
	(cd "${root}" && ./mvnw -B -q -DskipTests -Djacoco.skip=true package)
fi

# 2,000 streams take 2,000 descriptors in the client (each process has its own limit; the JVM
# raises its soft limit to the hard one by itself)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

"${python}" "${here}/cluster.py" "$@" &
pid=$!
trap 'kill -TERM "${pid}" 2>/dev/null || true; wait "${pid}" 2>/dev/null || true' INT TERM
wait "${pid}"
