#!/usr/bin/env bash
#
# Trains a Java 25 AOT cache on a run like production: the service starts, answers every
# endpoint (values, long-polls, a stream, probes, metrics, errors), and shuts down on
# SIGTERM, all seven steps; the JVM writes the cache as it exits. A run that stops at the
# context refresh would leave out the classes of the first requests and of the shutdown,
# and record no method profiles (JEP 515).
#
# Usage: train.sh JAVA_COMMAND...   run in the application's directory
#   e.g. train.sh java -XX:+UseSerialGC -XX:AOTCacheOutput=app.aot -jar application.jar
#
# Only bash is needed (/dev/tcp), so that it runs on a bare JRE image. The service listens
# on a free port of the loopback interface and keeps its state file in a temporary
# directory, which is removed with its log once the log is printed.
set -euo pipefail

state="$(mktemp -d)"
trap 'cat "$state/log"; rm -rf "$state"' EXIT

"$@" --server.port=0 --server.address=127.0.0.1 --sequence.period=100ms \
	--sequence.state-file="$state/last-num-from-seq.txt" >"$state/log" 2>&1 &
service=$!

port=""
for _ in $(seq 1 600); do
	port="$(sed -n 's/.*Tomcat started on port \([0-9]*\).*/\1/p' "$state/log")"
	if [[ -n "$port" ]]; then
		break
	fi
	kill -0 "$service" 2>/dev/null || { echo "The training run ended before it started" >&2; exit 1; }
	sleep 0.1
done

# One request on a new connection: prints the status code
request() { # path [header line]
	local status=""
	if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
		printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n' "$1" "${2:+$2$'\r\n'}" >&3
		IFS=' ' read -r _ status _ <&3 || true
		cat <&3 >/dev/null || true
		exec 3<&-
	fi
	echo "$status"
}

for _ in $(seq 1 100); do
	if [[ "$(request /sequence/last 2>/dev/null)" == 200 ]]; then
		break
	fi
	sleep 0.1
done
for _ in $(seq 1 200); do
	request /sequence/last >/dev/null
	request /sequence/last 'Accept: application/json' >/dev/null
done
for _ in $(seq 1 5); do
	request /sequence/last 'If-None-Match: "0-0"' >/dev/null
	request '/sequence/next?timeout=1s' >/dev/null
	request '/sequence/stream?count=2' 'Accept: text/event-stream' >/dev/null
	request /readyz >/dev/null
	request /livez >/dev/null
	request /actuator/health >/dev/null
	request /actuator/info >/dev/null
	request /actuator/prometheus >/dev/null
	request /nothing/here >/dev/null
	request '/sequence/next?timeout=forever' >/dev/null
	request / >/dev/null
done
kill -TERM "$service"
status=0
wait "$service" || status=$?
# 143: the JVM's status after SIGTERM
if [[ "$status" != 143 ]]; then
	echo "The training run ended with status $status, not 143" >&2
	exit 1
fi
