#!/usr/bin/env bash
# Hostile clients: how long does a well-behaved client wait while one address attacks?
#
#   bench/hostile.sh [--runs gs:slowloris,gs-nginx:idle,...] [--n N] [--stream-n N]
#                    [--trickle 5s] [--wait 120s] [--out DIR]
#   bench/hostile.sh --report DIR     # the table of an earlier run again
#
# Each run starts one target on free loopback ports in a temporary directory, waits for its
# first value, then runs `load hostile` (bench/load/): the attacker (127.0.0.1) opens --n
# connections (--stream-n for the stream hog), holds them and opens again each one the server
# closes; once the attack is set up, a well-behaved client (127.0.0.2) asks for GET
# /sequence/last and for a stream at the same time, each on a new connection and bounded by
# --wait, and the run records how long each waited and what it got. Attacks: slowloris (a
# request line and one header, then nothing), trickle (the same, then a header byte every
# --trickle: Tomcat's connection timeout bounds the gap between two reads, not the whole head),
# idle (one request, then idle), streams (one address opens as many streams as it can). Targets:
#   gs             target/graceful-sequence.jar alone, the systemd unit's heap
#                  (-Xmx384m -XX:+UseSerialGC): stream cap 4,411, connection bound
#                  4,411 + 1,024 = 5,435, accept queue 4,096
#   gs-per-client  the same with --sequence.max-subscribers-per-client=50
#   gs-haproxy     the same jar behind a copy of deploy/haproxy/haproxy.cfg (only its ports
#                  differ), trusting HAProxy's X-Forwarded-For as deploy/systemd sets it
#   gs-nginx       the same behind a copy of deploy/nginx/nginx.conf (only its ports and
#                  temporary paths differ)
#   plain          the plain Spring Boot peer (same heap; Tomcat's defaults: 8,192
#                  connections, a queue of 100, 60 s timeouts)
#   go             the Go original (no bound, no timeout)
# The peers serve no stream: their stream column says so. The default size, 9,531, fills
# graceful-sequence's connection bound and its accept queue (5,435 + 4,096); the descriptors
# of one process (ulimit -Hn, raised to as the soft limit) bound what one attacker can open:
# this script stops if they are fewer than the attack needs.
# Writes bench/out/hostile/<time>/: per run the client's RESULT line, the logs, and report.md.
#
# Every process is ended by its PID; the attack is set up within 60 s, each wait is bounded,
# a target gets 30 s from SIGTERM before SIGKILL. Loopback only. Installs golang-go (and
# haproxy, nginx-light through .ci/) with apt if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=gs:slowloris,gs:trickle,gs:idle,gs:streams,gs-per-client:streams,gs-haproxy:slowloris,gs-haproxy:trickle,gs-haproxy:idle,gs-haproxy:streams,gs-nginx:slowloris,gs-nginx:trickle,gs-nginx:idle,gs-nginx:streams,plain:slowloris,plain:trickle,plain:idle,go:slowloris,go:trickle,go:idle
n=9531 stream_n=5000 trickle=5s wait=120s out= report=
while [ $# -gt 0 ]; do
	case $1 in
		--runs) runs=$2; shift 2 ;;
		--n) n=$2; shift 2 ;;
		--stream-n) stream_n=$2; shift 2 ;;
		--trickle) trickle=$2; shift 2 ;;
		--wait) wait=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--report) report=$2; shift 2 ;;
		-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -z "$report" ] || { out=$report; runs=; }
out=${out:-bench/out/hostile/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"; out=$(cd "$out" && pwd)
flags=(-Xmx384m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)

if [ -n "$runs" ]; then
apt_install() {
	[ "$(id -u)" -eq 0 ] || { echo "Missing $*; run as root to install it with apt-get" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v go >/dev/null 2>&1 || apt_install golang-go
case $runs in *haproxy*) "$root/.ci/install-haproxy.sh" >/dev/null ;; esac
case $runs in *nginx*) "$root/.ci/install-nginx.sh" >/dev/null ;; esac
export PATH=$PATH:/usr/sbin

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
need=$((n + 1024))
[ "$hard" -ge "$need" ] || { echo "ulimit -Hn is $hard, $need open files are needed for --n $n" >&2; exit 1; }
echo "ulimit -Hn $hard: attack of $n connections ($stream_n for streams)" >"$out/limits"

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

jar=target/graceful-sequence.jar
[ -f "$jar" ] || ./mvnw -B -q -DskipTests -Djacoco.skip=true package
cp "$jar" "$out/graceful-sequence.jar"
bench/build-load.sh
cp bench/out/load "$out/load"

# The peers, built into bench/out as bench/run.sh builds them (shared/ is read-only)
peers=${PEERS:-$root/../shared/peers}
[ -d "$peers/go-seed" ] || peers=/work/shared/peers
case $runs in *go:*)
	if [ ! -x bench/out/go-seed ]; then
		rm -rf bench/out/go-seed-src; cp -r "$peers/go-seed" bench/out/go-seed-src; chmod -R u+w bench/out/go-seed-src
		(cd bench/out/go-seed-src && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o ../go-seed .)
	fi ;;
esac
plain_jar=bench/out/spring-plain-src/target/spring-plain-0.0.1.jar
case $runs in *plain:*)
	if [ ! -f "$plain_jar" ]; then
		rm -rf bench/out/spring-plain-src; cp -r "$peers/spring-plain" bench/out/spring-plain-src
		chmod -R u+w bench/out/spring-plain-src
		./mvnw -B -q -DskipTests package -f bench/out/spring-plain-src/pom.xml
	fi ;;
esac

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2" || true; }

# The service as deploy/systemd/graceful-sequence.env runs it next to a local proxy
behind_proxy=(--server.forward-headers-strategy=native '--server.tomcat.remoteip.internal-proxies=127[.]0[.]0[.]1'
	--sequence.max-subscribers-per-client=64)

haproxy_copy() { # front service stats
	awk -v front="$1" -v service="$2" -v stats="$3" '
		/^[a-z]/ { section = $1 " " $2 }
		$1 == "bind" && section == "frontend graceful-sequence" { sub(/bind[ \t]+[^ \t]+/, "bind 127.0.0.1:" front) }
		$1 == "bind" && section == "frontend stats" { sub(/bind[ \t]+[^ \t]+/, "bind 127.0.0.1:" stats) }
		$1 == "server" && section == "backend graceful-sequence" { sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" service) }
		{ print }' deploy/haproxy/haproxy.cfg
}
nginx_copy() { # front service prefix
	sed -E "s/^(\s*listen\s+)[^;]+/\1127.0.0.1:$1/; s/^(\s*server\s+)127\.0\.0\.1:[0-9]+/\1127.0.0.1:$2/" deploy/nginx/nginx.conf |
		sed -E "s|^http \{|http {\n\tclient_body_temp_path $3/body;\n\tproxy_temp_path $3/proxy;\n\tfastcgi_temp_path $3/fastcgi;\n\tuwsgi_temp_path $3/uwsgi;\n\tscgi_temp_path $3/scgi;|"
}

run() { # target attack dir
	local target=$1 attack=$2 dir=$3 work port front pid proxy= size
	mkdir -p "$dir"; work=$(mktemp -d)
	port=$(free_port); front=$port
	case $target in
		gs|gs-per-client|gs-haproxy|gs-nginx)
			local extra=()
			[ "$target" = gs-per-client ] && extra=(--sequence.max-subscribers-per-client=50)
			[ "$target" = gs-haproxy ] || [ "$target" = gs-nginx ] && extra=("${behind_proxy[@]}")
			echo "java ${flags[*]} -jar graceful-sequence.jar --server.port=$port --server.address=127.0.0.1 ${extra[*]}" >"$dir/command"
			(cd "$work" && exec java "${flags[@]}" -jar "$out/graceful-sequence.jar" --server.port="$port" \
				--server.address=127.0.0.1 "${extra[@]}" >"$dir/log" 2>&1) &
			pid=$! ;;
		plain)
			echo "PORT=$port java ${flags[*]} -jar spring-plain-0.0.1.jar" >"$dir/command"
			(cd "$work" && PORT=$port exec java "${flags[@]}" -jar "$root/$plain_jar" >"$dir/log" 2>&1) &
			pid=$! ;;
		go)
			echo "PORT=$port BIND_ADDRESS=127.0.0.1 go-seed" >"$dir/command"
			(cd "$work" && PORT=$port BIND_ADDRESS=127.0.0.1 exec "$root/bench/out/go-seed" >"$dir/log" 2>&1) &
			pid=$! ;;
	esac
	pids+=("$pid")
	for _ in $(seq 1 600); do [ "$(status_of "$port" /sequence/last)" = 200 ] && break; sleep 0.1; done
	case $target in
		gs-haproxy)
			front=$(free_port)
			haproxy_copy "$front" "$port" "$(free_port)" >"$dir/haproxy.cfg"
			haproxy -db -f "$dir/haproxy.cfg" >"$dir/proxy.log" 2>&1 &
			proxy=$! ;;
		gs-nginx)
			front=$(free_port); mkdir -p "$work/nginx"
			nginx_copy "$front" "$port" "$work/nginx" >"$dir/nginx.conf"
			nginx -p "$work/nginx/" -c "$dir/nginx.conf" -g "daemon off; pid $work/nginx/nginx.pid;" >"$dir/proxy.log" 2>&1 &
			proxy=$! ;;
	esac
	if [ -n "$proxy" ]; then
		pids+=("$proxy")
		for _ in $(seq 1 300); do [ "$(status_of "$front" /sequence/last)" = 200 ] && break; sleep 0.1; done
	fi
	size=$n; [ "$attack" = streams ] && size=$stream_n
	echo "load hostile -target 127.0.0.1:$front -attack $attack -n $size -trickle $trickle -wait $wait" >>"$dir/command"
	"$out/load" hostile -target "127.0.0.1:$front" -attack "$attack" -n "$size" -trickle "$trickle" -wait "$wait" \
		>"$dir/client.out" 2>"$dir/client.err" || true
	local up=no; kill -0 "$pid" 2>/dev/null && up=yes
	echo "$up $(status_of "$port" /sequence/last)" >"$dir/up"
	if [ -n "$proxy" ]; then kill -TERM "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pids=()
	rm -rf "$work"
	echo "$target $attack: $(tail -1 "$dir/client.out" | cut -c1-300)"
}

IFS=, read -ra list <<<"$runs"
for entry in "${list[@]}"; do
	run "${entry%%:*}" "${entry#*:}" "$out/${entry%%:*}-${entry#*:}"
done
fi

python3 - "$out" <<'PY'
import json, os, sys, glob
out = sys.argv[1]
def read(d, f):
    try:
        return open(os.path.join(d, f)).read().strip()
    except OSError:
        return ""
def seconds(p):
    return ("%.0f ms" % p["ms"]) if p["ms"] < 1000 else ("%.1f s" % (p["ms"] / 1000))
rows = []
TARGETS = ["gs", "gs-per-client", "gs-haproxy", "gs-nginx", "plain", "go"]
ATTACKS = ["slowloris", "trickle", "idle", "streams"]
def order(d):
    target, attack = os.path.basename(d).rsplit("-", 1)
    return (TARGETS.index(target) if target in TARGETS else 99, ATTACKS.index(attack) if attack in ATTACKS else 99)
for d in sorted((d for d in glob.glob(os.path.join(out, "*-*")) if os.path.isdir(d)), key=order):
    name = os.path.basename(d)
    target, attack = name.rsplit("-", 1)
    res = [l for l in read(d, "client.out").splitlines() if l.startswith("RESULT ")]
    if not res:
        rows.append("| %s | %s | no result | | | | |" % (target, attack)); continue
    r = json.loads(res[0][7:])
    last, stream = r["last"], r["stream"]
    last_text = ("%s, %s" % (seconds(last), last["status"])) if last["status"] else "none within %s (%s)" % (seconds(last), last.get("error", ""))
    if target in ("plain", "go"):
        stream_text = "no stream endpoint (%s after %s)" % (stream["kind"], seconds(stream))
    elif stream["status"]:
        stream_text = "%s, %s" % (seconds(stream), stream["kind"])
    else:
        stream_text = "none within %s (%s)" % (seconds(stream), stream.get("error", ""))
    attack_text = "%d open at the probe (peak %d) of %d, set up in %.1f s; %d closed by the server, %d failed connects" % (
        r["open_at_probe"], r["peak_open"], r["n"], r["setup_ms"] / 1000, r["closed_by_server"], r["failed_connects"])
    if attack == "streams":
        attack_text += "; %d streams, %d busy" % (r["streams"], r["busy"])
    up = read(d, "up").split()
    rows.append("| %s | %s | %s | %s | %s | %s |" % (target, attack, attack_text, last_text, stream_text,
        "up, /sequence/last %s" % up[1] if up and up[0] == "yes" else "DOWN"))
head = "| target | attack | the attack | well-behaved GET /sequence/last: wait, status | well-behaved stream: wait, first event | target after |"
table = "\n".join([head, "|---|---|---|---|---|---|"] + rows)
open(os.path.join(out, "report.md"), "w").write(table + "\n")
print(table)
PY
