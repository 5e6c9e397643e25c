#!/usr/bin/env bash
# A/B of two builds of graceful-sequence on GET /sequence/last, interleaved, same machine:
# throughput and p99 of `wrk -t2 -c64 -d10s --latency` after a 10 s warm-up, per round.
#
#   bench/ab.sh A.jar B.jar [rounds]      e.g. the jar of main against the jar of a change
#   A_ARGS="--server.tomcat.threads.max=8" bench/ab.sh app.jar app.jar 3
#                                         one jar, two settings (A_ARGS, B_ARGS: arguments of each)
#   JAVA=/path/to/java                    another JVM than the default java
#   JVM_FLAGS="..."                       JVM flags of both (default -XX:+UseSerialGC)
#
# Every process is started here and ended by its PID; loopback only; bounded in time.
set -euo pipefail
a=$(realpath "$1"); b=$(realpath "$2"); rounds=${3:-2}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # label jar args
  local dir port pid out
  dir=$(mktemp -d); port=$(free_port)
  # shellcheck disable=SC2086
  (cd "$dir" && exec "${JAVA:-java}" ${JVM_FLAGS:--XX:+UseSerialGC} -jar "$2" --server.port="$port" --server.address=127.0.0.1 \
    $3 >"$dir/log" 2>&1) &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/sequence/last" || true)" = 200 ] && break
    sleep 0.1
  done
  wrk -t2 -c64 -d10s "http://127.0.0.1:$port/sequence/last" >/dev/null 2>&1
  out=$(wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$port/sequence/last")
  printf '%s rps=%s p99=%s non2xx=%s socket_errors=%s load=%s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out")" "$(grep -c 'Socket errors' <<<"$out" || true)" \
    "$(cut -d' ' -f1 /proc/loadavg)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

for round in $(seq 1 "$rounds"); do
  run "A" "$a" "${A_ARGS:-}"
  run "B" "$b" "${B_ARGS:-}"
done
