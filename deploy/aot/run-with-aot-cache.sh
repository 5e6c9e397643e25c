#!/usr/bin/env bash
#
# Runs graceful-sequence outside a container with the java command lines of the Dockerfile:
# extract the jar into its layers, train a Java 25 AOT cache on a run like production
# (train.sh beside this script), then start the service with that cache. The JVM replaces this script
# (exec), so a signal sent to the script's PID reaches the JVM, as it does for PID 1 in the
# container: SIGTERM ends it with status 143, SIGINT with 130.
#
# Usage: deploy/aot/run-with-aot-cache.sh JAR [APPLICATION_ARGUMENT...]
#   e.g. deploy/aot/run-with-aot-cache.sh target/graceful-sequence.jar --server.port=3333
#
# Environment:
#   JAVA_HOME  a Java 25 or later (default /usr/lib/jvm/temurin-25-jdk-amd64)
#   APP_DIR    where the application and app.aot go (default ./application); it is the
#              working directory of the service, as /application is in the image, so a
#              relative sequence.state-file lands there
#   DRY_RUN    1 to print the three command lines without running anything
#
# Keep the flags below in step with the Dockerfile: AotCacheScriptIT compares them.
set -euo pipefail

JVM_FLAGS=(-XX:MaxRAMPercentage=75.0 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)
EXTRACT=(-Djarmode=tools -jar)
EXTRACT_OPTIONS=(extract --layers --application-filename application.jar)
TRAIN=("${JVM_FLAGS[@]}" -XX:AOTCacheOutput=app.aot -jar application.jar)
RUN=("${JVM_FLAGS[@]}" -XX:AOTCache=app.aot -jar application.jar)

if [[ $# -lt 1 ]]; then
	echo "Usage: $0 JAR [APPLICATION_ARGUMENT...]" >&2
	exit 2
fi
jar="$1"
shift
java_home="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
trainer="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/train.sh"
java="$java_home/bin/java"
app_dir="${APP_DIR:-application}"
layers="$app_dir/.layers"

if [[ "${DRY_RUN:-0}" == 1 ]]; then
	echo "extract: $java ${EXTRACT[*]} $jar ${EXTRACT_OPTIONS[*]} --destination $layers"
	echo "train: $trainer $java ${TRAIN[*]}"
	echo "run: $java ${RUN[*]}${*:+ $*}"
	exit 0
fi

if [[ ! -x "$java" ]]; then
	echo "No java at $java: set JAVA_HOME to a Java 25 or later" >&2
	exit 1
fi
version="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
if [[ "${version%%.*}" -lt 25 ]]; then
	echo "$java is Java $version; the AOT cache (-XX:AOTCacheOutput) needs Java 25 or later: set JAVA_HOME" >&2
	exit 1
fi
if [[ ! -f "$jar" ]]; then
	echo "No jar at $jar: build it with ./mvnw -DskipTests package" >&2
	exit 1
fi
jar="$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")"

# Start from a clean application (a cache trained for another jar would be ignored), but
# leave anything else in the directory, such as the state file, alone
mkdir -p "$app_dir"
app_dir="$(cd "$app_dir" && pwd)"
layers="$app_dir/.layers"
rm -rf "$layers" "$app_dir/lib" "$app_dir/application.jar" "$app_dir/app.aot"

echo "extract: $java ${EXTRACT[*]} $jar ${EXTRACT_OPTIONS[*]} --destination $layers"
"$java" "${EXTRACT[@]}" "$jar" "${EXTRACT_OPTIONS[@]}" --destination "$layers"
# What the Dockerfile's COPY instructions do, one layer after the other
for layer in dependencies spring-boot-loader snapshot-dependencies application; do
	if [[ -d "$layers/$layer" ]]; then
		cp -R "$layers/$layer/." "$app_dir/"
	fi
done
rm -rf "$layers"

cd "$app_dir"
echo "train: $trainer $java ${TRAIN[*]}"
"$trainer" "$java" "${TRAIN[@]}"
echo "run: $java ${RUN[*]}${*:+ $*}"
exec "$java" "${RUN[@]}" "$@"
