#!/usr/bin/env bash
# Benchmark harness: graceful-sequence against the Go original (go-seed) and plain Spring Boot
# (spring-plain), side by side on loopback, interleaved, several rounds. Writes
# docs/benchmarks.md and docs/benchmarks.svg. See bench/README.md.
#
#   bench/run.sh            full run (3 rounds, 20 s warm-up, ~15-20 minutes)
#   bench/run.sh --quick    one short round, to check that everything works
#   bench/run.sh --report   rewrite the docs from bench/out/results.json without measuring
#
# Environment: ROUNDS=N, PEERS=/path/to/peers, GS_LEAN_FLAGS="..." (JVM flags of the
# "recommended flags" variant), JAVA17=..., JAVA25=...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"
out="${here}/out"
mkdir -p "${out}"

mode="full"
for arg in "$@"; do
	case "${arg}" in
		--quick) mode="quick" ;;
		--report) mode="report" ;;
		*) echo "Unknown argument ${arg}; use --quick or --report" >&2; exit 2 ;;
	esac
done

# Python 3 with matplotlib for the chart: Debian's python3-matplotlib lives under /usr/bin/python3
python="python3"
if /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
	python="/usr/bin/python3"
fi

if [[ "${mode}" == "report" ]]; then
	exec "${python}" "${here}/bench.py" --report
fi

apt_updated=""
apt_install() {
	if [[ -z "${apt_updated}" ]]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v wrk >/dev/null 2>&1 || { echo "Installing wrk"; apt_install wrk; }
command -v go >/dev/null 2>&1 || { echo "Installing golang-go"; apt_install golang-go; }
command -v curl >/dev/null 2>&1 || { echo "Installing curl"; apt_install curl; }
if ! /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
	echo "Installing python3-matplotlib (for the chart; a hand-written SVG is the fallback)"
	apt_install python3-matplotlib || true
	if /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
		python="/usr/bin/python3"
	fi
fi

java17="${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}"
java25="${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"
[[ -x "${java17}" ]] || { echo "No Java 17 at ${java17} (set JAVA17)" >&2; exit 1; }
[[ -x "${java25}" ]] || { echo "No Java 25 at ${java25} (set JAVA25)" >&2; exit 1; }

# This service's jar
jar="${root}/target/graceful-sequence.jar"
if [[ ! -f "${jar}" ]]; then
	echo "Building ${jar}"
	(cd "${root}" && ./mvnw -B -q -DskipTests -Djacoco.skip=true package)
fi

# The peers, built into bench/out (shared/ is read-only)
peers="${PEERS:-}"
if [[ -z "${peers}" ]]; then
	for candidate in "${root}/../shared/peers" "/work/shared/peers"; do
		if [[ -d "${candidate}/go-seed" ]]; then
			peers="$(cd "${candidate}" && pwd)"
			break
		fi
	done
fi
[[ -d "${peers}/go-seed" && -d "${peers}/spring-plain" ]] || { echo "No peers found (set PEERS)" >&2; exit 1; }

if [[ ! -x "${out}/go-seed" || "${peers}/go-seed/main.go" -nt "${out}/go-seed" ]]; then
	echo "Building go-seed"
	rm -rf "${out}/go-seed-src"
	cp -r "${peers}/go-seed" "${out}/go-seed-src"
	chmod -R u+w "${out}/go-seed-src"
	(cd "${out}/go-seed-src" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "${out}/go-seed" .)
fi

# The load tool, whose fanout is the fan-out client (Go, stdlib only): a goroutine per stream
"${here}/build-load.sh"

plain_jar="${out}/spring-plain-src/target/spring-plain-0.0.1.jar"
if [[ ! -f "${plain_jar}" ]]; then
	echo "Building spring-plain"
	rm -rf "${out}/spring-plain-src"
	cp -r "${peers}/spring-plain" "${out}/spring-plain-src"
	chmod -R u+w "${out}/spring-plain-src"
	if command -v mvn >/dev/null 2>&1; then
		mvn -B -q -DskipTests package -f "${out}/spring-plain-src/pom.xml"
	else
		(cd "${root}" && ./mvnw -B -q -DskipTests package -f "${out}/spring-plain-src/pom.xml")
	fi
fi

# Java 25 AOT caches, in Spring Boot's documented layout: extracted jar, training run, cache.
# This service's cache is trained as its Dockerfile trains it, with the container's JVM
# flags (CONTAINER_FLAGS in bench.py), on a run like production (deploy/aot/train.sh);
# spring-plain's with the run to the context refresh that Spring Boot's documentation shows.
aot_cache() {
	local name="$1" source="$2" training="$3"
	local dir="${out}/aot/${name}"
	local base
	base="$(basename "${source}")"
	if [[ -f "${dir}/app.aot" && "${dir}/app.aot" -nt "${source}" && "${dir}/app.aot" -nt "${root}/deploy/aot/train.sh" ]]; then
		return
	fi
	echo "Training the Java 25 AOT cache of ${name}"
	rm -rf "${dir}"
	mkdir -p "${dir}/train"
	"${java25}" -Djarmode=tools -jar "${source}" extract --destination "${dir}/app"
	if [[ "${training}" == "workload" ]]; then
		(cd "${dir}/train" && TRAIN_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
			"${root}/deploy/aot/train.sh" "${java25}" -XX:MaxRAMPercentage=75.0 -XX:+UseSerialGC \
			-XX:+ExitOnOutOfMemoryError -XX:AOTCacheOutput="${dir}/app.aot" -jar "${dir}/app/${base}" \
			>"${dir}/training.log" 2>&1) || true
	else
		(cd "${dir}/train" && "${java25}" -XX:AOTCacheOutput="${dir}/app.aot" -Dspring.context.exit=onRefresh \
			-jar "${dir}/app/${base}" --server.address=127.0.0.1 >"${dir}/training.log" 2>&1) || true
	fi
	[[ -f "${dir}/app.aot" ]] || { echo "No AOT cache for ${name}; see ${dir}/training.log" >&2; exit 1; }
}
aot_cache graceful-sequence "${jar}" workload
aot_cache spring-plain "${plain_jar}" refresh

# Thousands of streams need file descriptors: 10,000 streams take 10,000 in the client and
# 10,000 in the service (each process has its own limit)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt 10300 ]]; then
	echo "ulimit -n is $(ulimit -n): 10,000 streams need about 10,300 descriptors per process" >&2
fi

"${python}" "${here}/bench.py" --mode "${mode}" --jar "${jar}" --plain-jar "${plain_jar}" \
	--go "${out}/go-seed" --java17 "${java17}" --java25 "${java25}" &
bench_pid=$!
# The Python harness ends every process it starts by PID; if this script is stopped, stop it
trap 'kill -TERM "${bench_pid}" 2>/dev/null || true; wait "${bench_pid}" 2>/dev/null || true' INT TERM
wait "${bench_pid}"
