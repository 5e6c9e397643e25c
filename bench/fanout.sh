#!/usr/bin/env bash
# The fan-out, side by side: OLD.jar (one fan-out thread), NEW.jar with one lane
# (-XX:ActiveProcessorCount=1), NEW.jar with a lane per core, and NEW.jar with its state file
# on tmpfs (the fsync's share), through bench.py's fan-out scenarios (1,000 streams at 200 ms,
# 10,000 at 1 s, 10,000 at 200 ms for a minute), interleaved, with the Go client `load fanout`.
# Prints medians (min-max); raw results in bench/out/fanout-ab.json, the table in
# bench/out/fanout-ab.md. See bench/README.md.
#
#   bench/fanout.sh OLD.jar NEW.jar                  2 rounds, about 10 minutes a round on 2 cores
#   bench/fanout.sh OLD.jar NEW.jar --rounds 3
#   bench/fanout.sh OLD.jar NEW.jar --quick          short scenarios, one round, to check the harness
#   bench/fanout.sh OLD.jar NEW.jar --profile        then a JFR-recorded run of the lanes and of the old jar
#   bench/fanout.sh OLD.jar NEW.jar --profile-only   only those
#   bench/fanout.sh OLD.jar NEW.jar --variants lanes,lanes-shm --scenarios 10k-200ms
#   bench/fanout.sh OLD.jar NEW.jar --variants lanes,lanes-xms --scenarios 4k-200ms --heap=-Xmx384m
#
# Environment: JAVA17, OLD_HEAP (the old jar's -Xmx, default -Xmx2g), QUIET_BUSY, QUIET_WAIT.
# Every process is started by the Python harness and ended by its PID; loopback only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${here}/out"
mkdir -p "${out}"
[[ $# -ge 2 ]] || { sed -n '2,18p' "$0" >&2; exit 2; }
old="$(realpath "$1")"; new="$(realpath "$2")"; shift 2
[[ -f "${old}" && -f "${new}" ]] || { echo "No jar at ${old} or ${new}" >&2; exit 2; }

# The fan-out client: load fanout
"${here}/build-load.sh"

# 10,000 streams take 10,000 descriptors in the client and 10,000 more in the service (each
# process has its own limit; the JVM raises its soft limit to the hard one by itself)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt 10300 ]]; then
	echo "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)): 10,000 streams need about 10,300 per process" >&2
fi

python3 "${here}/fanout_ab.py" "${old}" "${new}" "$@" &
pid=$!
trap 'kill -TERM "${pid}" 2>/dev/null || true; wait "${pid}" 2>/dev/null || true' INT TERM
wait "${pid}"
