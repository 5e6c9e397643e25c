#!/usr/bin/env bash
# Run a command while the machine is busy, to find tests that only pass on a quiet machine:
# one busy loop per core and a writer that forces 200 MiB to disk again and again (so that the
# state file's fsync, and with it every value, comes late), all ended by PID when the command
# ends, and after 30 minutes at most in any case. Exits with the command's status.
#
#   bench/under-load.sh ./mvnw -B -o verify -Djacoco.skip=true -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
#   bench/under-load.sh ./mvnw -B -o verify -Djacoco.skip=true -Dtest=NONE -Dit.test=DrainDelayIT \
#       -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
#
# Environment: LOAD_CPUS (busy loops, default the number of cores), LOAD_DIR (where the writer
# writes, default the temporary directory, where the tests keep their state files).
set -uo pipefail
[[ $# -ge 1 ]] || { sed -n '2,12p' "$0" >&2; exit 2; }
dir="$(mktemp -d "${LOAD_DIR:-${TMPDIR:-/tmp}}/under-load.XXXXXX")"
pids=()
for _ in $(seq 1 "${LOAD_CPUS:-$(nproc)}"); do
	timeout 1800 sh -c 'while :; do :; done' &
	pids+=($!)
done
timeout 1800 sh -c "while :; do dd if=/dev/zero of='${dir}/fill' bs=1M count=200 conv=fsync status=none; done" &
pids+=($!)
"$@"
status=$?
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
rm -rf "${dir}"
exit "${status}"
