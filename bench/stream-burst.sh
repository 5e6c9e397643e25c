#!/usr/bin/env bash
# A burst of stream requests past the cap: is every client answered?
#
#   bench/stream-burst.sh [--clients N] [--rounds R] [--accept-counts 100,4096]
#                         [--before REV | --before-jar JAR] [--interval 0s] [--out DIR]
#   bench/stream-burst.sh --report DIR     # the table of an earlier run again
#
# For every variant (the jar of REV or JAR as "before", with Tomcat's default accept queue;
# target/graceful-sequence.jar with each accept count, passed as server.tomcat.accept-count;
# the service's own default is 4096, Spring Boot's 100), in an order that rotates from round to round: starts the jar with the systemd
# unit's heap (-Xmx384m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError) and
# --sequence.period=500ms on a free loopback port in a temporary directory, waits for the
# first value, then starts N stream requests one after the other without waiting for any
# answer (`load burst` of bench/load/: 10 s connect timeout, no retry; a client keeps its
# connection for as long as the server does). While they settle it samples the heap
# (jstat -gc), the listen queue and the established connections (ss), and the kernel's
# listen overflows (/proc/net/netstat, as nstat); once every client has its answer or has
# failed, it checks that the service is up and ready, sends SIGTERM and reads the exit status
# and the last log line.
# Writes per-client CSVs, logs and a markdown table to bench/out/stream-burst/<time>/.
#
# Every process is ended by its PID; the client gives up 120 s after its first start, the
# service gets 90 s from SIGTERM before SIGKILL. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
clients=10000 rounds=1 accept_counts=100,4096 before= before_jar= interval=0s out= report=
while [ $# -gt 0 ]; do
  case $1 in
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --accept-counts) accept_counts=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --before-jar) before_jar=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
flags=(-Xmx384m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)
[ -z "$report" ] || { out=$report; rounds=0; }
out=${out:-bench/out/stream-burst/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"; out=$(cd "$out" && pwd)

if [ "$rounds" -gt 0 ]; then
# 10,000 client sockets in the client, as many server sockets in the service: raise the
# soft limit of open files to the hard one, which both inherit
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
need=$((clients + 1024))
[ "$(ulimit -n)" -ge "$need" ] || { echo "ulimit -Hn is $hard, $need open files are needed" >&2; exit 1; }

pids=()
worktree=
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -z "$worktree" ] || git worktree remove --force "$worktree" 2>/dev/null || true
}
trap cleanup EXIT

jar=target/graceful-sequence.jar
[ -f "$jar" ] || ./mvnw -B -q -DskipTests -Djacoco.skip=true package
cp "$jar" "$out/after.jar"
if [ -n "$before" ]; then
  worktree=$(mktemp -d -u /tmp/gs-burst-before.XXXXXX)
  git worktree add --detach "$worktree" "$before" >/dev/null
  (cd "$worktree" && ./mvnw -B -q -DskipTests -Djacoco.skip=true package >"$out/before-build.log" 2>&1)
  cp "$worktree/target/graceful-sequence.jar" "$out/before.jar"
  git worktree remove --force "$worktree"; worktree=
  before_jar=$out/before.jar
elif [ -n "$before_jar" ]; then
  cp "$before_jar" "$out/before.jar"; before_jar=$out/before.jar
fi
bench/build-load.sh
cp bench/out/load "$out/load"

variants=()
[ -z "$before_jar" ] || variants+=("before:$before_jar:100")
IFS=, read -ra counts <<<"$accept_counts"
for c in "${counts[@]}"; do variants+=("after:$out/after.jar:$c"); done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
overflows() { # the kernel's counters of this network namespace (nstat reads the same file)
  awk '/^TcpExt:/ { if (!seen) { split($0, key); seen = 1 } else for (i = 2; i <= NF; i++)
    if (key[i] ~ /^(ListenOverflows|ListenDrops|SyncookiesSent)$/) printf "%s=%s ", key[i], $i }' /proc/net/netstat
}

run_variant() { # name jar accept-count dir
  local name=$1 vjar=$2 accept=$3 dir=$4 port pid client sampler jstatpid status
  mkdir -p "$dir"
  local work; work=$(mktemp -d)
  port=$(free_port)
  local extra=(--server.tomcat.accept-count="$accept")
  echo "$accept" >"$dir/accept-count"
  echo "java ${flags[*]} -jar $(basename "$vjar") --server.port=$port --server.address=127.0.0.1 --sequence.period=500ms ${extra[*]}" >"$dir/command"
  (cd "$work" && exec java "${flags[@]}" -jar "$vjar" --server.port="$port" --server.address=127.0.0.1 \
    --sequence.period=500ms "${extra[@]}" >"$dir/log" 2>&1) &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)" = 200 ] && break; sleep 0.1
  done
  curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/sequence/next?timeout=5s" # the first value
  jstat -gc "$pid" 250 >"$dir/jstat.txt" 2>/dev/null &
  jstatpid=$!; pids+=("$jstatpid")
  echo "$(overflows)" >"$dir/nstat-before"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/load-before"
  local cpu0; cpu0=$(cpu_busy)
  local jvm0; jvm0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  "$out/load" burst -port "$port" -clients "$clients" -interval "$interval" -connect-timeout 10s \
    -answer-deadline 120s -within 60s -close-timeout 60s -csv "$dir/clients.csv" >"$dir/client.out" 2>"$dir/client.err" &
  client=$!; pids+=("$client")
  # The listen socket's queue (Recv-Q now, Send-Q the backlog) and the established connections
  ( while kill -0 "$client" 2>/dev/null; do
      echo "$(date +%s.%N) $(ss -Hltn "sport = :$port" | awk '{print $2, $3}' | head -1) $(ss -Htn state established "( sport = :$port )" | wc -l)"
      sleep 1
    done ) >"$dir/ss.txt" &
  sampler=$!; pids+=("$sampler")
  for _ in $(seq 1 1500); do # the client settles within its 120 s answer deadline
    grep -q '^SETTLED' "$dir/client.out" 2>/dev/null && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1
  done
  echo "$(overflows)" >"$dir/nstat-after"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/load-after"
  local cpu1; cpu1=$(cpu_busy)
  echo "$cpu0 $cpu1" | awk '{printf "%.0f\n", 100 * ($3 - $1) / ($4 - $2)}' >"$dir/cpu-busy"
  awk -v j0="$jvm0" '{print ($14 + $15 - j0) / 100}' "/proc/$pid/stat" >"$dir/jvm-cpu-seconds" 2>/dev/null || echo - >"$dir/jvm-cpu-seconds"
  local up=no ready
  kill -0 "$pid" 2>/dev/null && up=yes
  ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/readyz" || true)
  echo "$up $ready" >"$dir/up"
  curl -s --max-time 5 "http://127.0.0.1:$port/actuator/metrics/sequence.subscribers?tag=kind:stream" >"$dir/subscribers.json" || true
  jcmd "$pid" GC.heap_info >"$dir/heap_info.txt" 2>&1 || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true # still there after 90 s
  status=0; wait "$pid" || status=$?
  echo "$status" >"$dir/exit"
  for _ in $(seq 1 700); do kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$client" 2>/dev/null || true; wait "$client" 2>/dev/null || true
  kill "$jstatpid" 2>/dev/null || true; wait "$jstatpid" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true # ends within a second of the client
  pids=()
  rm -rf "$work"
  echo "$name accept-count=$accept: $(tail -1 "$dir/client.out" | cut -c1-400)"
}

for r in $(seq 1 "$rounds"); do
  n=${#variants[@]}
  for i in $(seq 0 $((n - 1))); do
    v=${variants[$(( (i + r - 1) % n ))]}
    name=${v%%:*}; rest=${v#*:}; vjar=${rest%:*}; accept=${rest##*:}
    run_variant "$name" "$vjar" "$accept" "$out/r$r-$name-ac$accept"
  done
done

fi

python3 - "$out" "$clients" <<'PY'
import json, os, sys, glob
out, clients = sys.argv[1], int(sys.argv[2])
def read(d, f, default="-"):
    try:
        return open(os.path.join(d, f)).read().strip()
    except OSError:
        return default
def counters(text):
    return {k: int(v) for k, v in (p.split("=") for p in text.split())}
rows = []
for d in sorted((d for d in glob.glob(os.path.join(out, "r*-*")) if os.path.isdir(d)), key=os.path.getmtime):
    name = os.path.basename(d)
    res = [l for l in read(d, "client.out", "").splitlines() if l.startswith("RESULT ")]
    if not res:
        rows.append("| %s | no result | | | | | | | | | | |" % name); continue
    r = json.loads(res[0][7:])
    c = r["counts"]
    values = sum(v for k, v in c.items() if k.startswith("answer:200 text/event-stream") and k.endswith(" value"))
    busy = sum(v for k, v in c.items() if k.startswith("answer:200 text/event-stream") and k.endswith("busy retry"))
    other = {k: v for k, v in c.items() if k.startswith("answer:") and not (k.endswith(" value") or k.endswith("busy retry"))}
    failed = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith("connect_failed:")}
    noans = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith("no_answer:")}
    why = ", ".join(["connect %s %d" % (k, v) for k, v in sorted(failed.items())] +
                    ["connected, then %s %d" % (k, v) for k, v in sorted(noans.items())] +
                    ["%s %d" % (k[7:], v) for k, v in sorted(other.items())]) or "-"
    b, a = counters(read(d, "nstat-before", "")), counters(read(d, "nstat-after", ""))
    ovf = a["ListenOverflows"] - b["ListenOverflows"] if "ListenOverflows" in a and "ListenOverflows" in b else "-"
    heap = used = old = 0
    fgc = "-"
    for line in read(d, "jstat.txt", "").splitlines():
        f = line.split()
        if not f or f[0] == "S0C":
            continue
        try:  # S0C S1C S0U S1U EC EU OC OU ... YGC YGCT FGC FGCT ...
            u = float(f[2]) + float(f[3]) + float(f[5]) + float(f[7])
            heap, old, fgc = max(heap, u), max(old, float(f[7])), f[14]
        except (ValueError, IndexError):
            pass
    queue = est = 0
    for line in read(d, "ss.txt", "").splitlines():
        f = line.split()
        if len(f) >= 4:
            queue, est = max(queue, int(f[1])), max(est, int(f[3]))
    closes = []
    try:
        import csv
        for row in csv.DictReader(open(os.path.join(d, "clients.csv"))):
            if row["kind"] == "busy" and row["server_closed"] == "true":
                closes.append(float(row["closed_ms"]) - float(row["answer_ms"]))
    except OSError:
        pass
    closes.sort()
    closed = ("%.1f s" % (closes[len(closes) // 2] / 1000)) if closes else "-"
    up = read(d, "up").split()
    log = read(d, "log", "")
    last = log.splitlines()[-1] if log else ""
    try:
        open_streams = int(json.loads(read(d, "subscribers.json", "{}"))["measurements"][0]["value"])
    except Exception:
        open_streams = "-"
    rows.append("| %s | %d | %d | %d | %s | %d | %.1f s | %.1f / %.1f s | %d, closed after %s | %d / %s | %s | %.0f MiB (old %.0f, FGC %s) | %s, ready %s, %s open | %s | %s | %d | %s busy, load %s -> %s, JVM %s s |" % (
        name, r["clients"], values, busy, why, r["good_within"], r["last_answer_ms"] / 1000,
        r["answer_p50_ms"] / 1000, r["answer_p99_ms"] / 1000, c.get("busy_connection_close", 0), closed,
        queue, read(d, "accept-count"),
        ovf, heap / 1024, old / 1024, fgc, up[0] if up else "-", up[1] if len(up) > 1 else "-", open_streams,
        read(d, "exit"), "yes" if "I'm leaving, bye!" in last else "no: " + last[-80:], c.get("stream_saw_shutdown", 0),
        read(d, "cpu-busy") + "%", read(d, "load-before").split()[0], read(d, "load-after").split()[0],
        read(d, "jvm-cpu-seconds")))
head = ("| run | clients | stream (value) | busy (retry) | no answer / other (why) | 200 event-stream within 60 s "
        "| last answer | answer p50 / p99 | busy with Connection: close, server closed it after (median) | peak listen queue / backlog "
        "| ListenOverflows | peak heap used | service after the burst | exit | bye | streams that got the shutdown event | CPU during the burst |")
table = "\n".join([head, "|" + "---|" * head.count(" |")] + rows)
open(os.path.join(out, "report.md"), "w").write(table + "\n")
print(table)
PY
