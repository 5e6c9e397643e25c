#!/usr/bin/env bash
# Heap and RSS per open stream, and whether a burst of streams up to the cap (and past it)
# leaves the service up, on the heap a deployment file ships.
#
#   bench/stream-memory.sh [streams] [jvm flags...]
#   bench/stream-memory.sh 2000 -Xmx384m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError
#
# Starts target/graceful-sequence.jar on a free loopback port in a temporary directory, reads
# the heap after a full GC (jcmd GC.class_histogram) and RSS idle, opens the streams all at
# once with `load fanout` (bench/load/), reads both again, then sends SIGTERM and reports how the process
# ended. Every process is ended by its PID; everything is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-2000}; shift || true
flags=("$@"); [ ${#flags[@]} -gt 0 ] || flags=(-Xmx384m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)
jar=target/graceful-sequence.jar
[ -f "$jar" ] || ./mvnw -B -q -DskipTests package
bench/build-load.sh
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$dir" && exec java "${flags[@]}" -jar "$OLDPWD/$jar" --server.port="$port" --server.address=127.0.0.1 \
  --sequence.period=500ms >"$dir/log" 2>&1) &
pid=$!
client=
trap 'kill -9 $pid $client 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)" = 200 ] && break; sleep 0.1
done
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/sequence/next?timeout=5s" # the first value
histogram() { jcmd "$pid" GC.class_histogram >"$dir/histogram-$1.txt"; awk '/^Total/ {print $3}' "$dir/histogram-$1.txt"; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status"; }
heap0=$(histogram idle); rss0=$(rss)
bench/out/load fanout -port "$port" -streams "$streams" -seconds 20 -connect-concurrency "$streams" \
  -open-timeout 60 >"$dir/streams.out" 2>&1 &
client=$!
for _ in $(seq 1 600); do grep -q '^OPEN' "$dir/streams.out" 2>/dev/null && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
open=$(curl -s "http://127.0.0.1:$port/actuator/metrics/sequence.subscribers?tag=kind:stream" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["measurements"][0]["value"]))')
heap1=$(histogram open); rss1=$(rss)
wait $client || true
kill -TERM $pid; status=0; wait $pid || status=$?
python3 - "$streams" "$open" "$heap0" "$heap1" "$rss0" "$rss1" "$status" "$dir/log" "${flags[*]}" "$dir" <<'PY'
import re, sys
asked, open_, h0, h1, r0, r1, status, log, flags, out = sys.argv[1:]
open_, h0, h1, r0, r1 = int(open_), int(h0), int(h1), int(r0), int(r1)
text = open(log, errors="replace").read()
cap = [l for l in text.splitlines() if "Taking up to" in l]
print("flags: %s" % flags)
print("cap: %s" % (cap[0].split(" : ", 1)[1] if cap else "?"))
print("streams asked %s, open %d" % (asked, open_))
if open_:
    print("live heap per stream %.1f KiB (%.0f -> %.0f MiB), RSS per stream %.1f KiB (%.0f -> %.0f MiB)" % (
        (h1 - h0) / open_ / 1024, h0 / 2**20, h1 / 2**20, (r1 - r0) / open_ / 1024, r0 / 2**20, r1 / 2**20))
def classes(name):
    found = {}
    for line in open("%s/histogram-%s.txt" % (out, name)):
        m = re.match(r"\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)", line)
        if m:
            found[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return found
if open_:
    idle, held = classes("idle"), classes("open")
    rows = sorted(((b - idle.get(k, (0, 0))[1], n - idle.get(k, (0, 0))[0], k) for k, (n, b) in held.items()), reverse=True)
    print("what one open stream holds, by class (bytes, instances):")
    for size, count, name in rows[:12]:
        print("  %7.0f B %6.2f  %s" % (size / open_, count / open_, name))
print("exit status %s, OutOfMemoryError in log: %s, bye: %s" % (
    status, "OutOfMemoryError" in text, "I'm leaving, bye!" in text.splitlines()[-1] if text else False))
PY
