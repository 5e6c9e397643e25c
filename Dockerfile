# syntax=docker/dockerfile:1
#
# graceful-sequence on an Eclipse Temurin 25 JRE, with a Java 25 AOT cache.
#
#   docker build -t graceful-sequence .
#   docker run --rm -p 3333:3333 -v graceful-sequence-data:/data --stop-timeout 75 graceful-sequence
#
# The java command lines below are the ones deploy/aot/run-with-aot-cache.sh runs outside
# the image; AotCacheScriptIT fails when the two drift apart, and DockerfileTests checks this
# file against the application's defaults. docs/operations.md explains the choices.

# ---- Build: compile with the wrapper and split the jar into layers ----
FROM eclipse-temurin:25-jdk AS build
WORKDIR /build
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY src src
# The cache mount keeps Maven and the dependencies between builds; the jar targets Java 17
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -DskipTests package
# Boot's tools mode, in its default layout: application.jar plus lib/, the jar's manifest
# naming each library. The AOT cache only holds classes loaded from jar files on the class
# path, which is why this layout is used rather than --launcher (classes from directories)
# or java -jar on the fat jar (nested jars).
RUN java -Djarmode=tools -jar target/graceful-sequence.jar extract --layers --application-filename application.jar --destination extracted

# ---- Runtime ----
FROM eclipse-temurin:25-jre AS runtime
# A dedicated user with a fixed numeric id: Kubernetes can only check runAsNonRoot against a
# numeric USER, and the manifests under deploy/kubernetes/ use the same id. /data is created
# here, owned by that user, so that a new named volume mounted there starts writable.
RUN groupadd --system --gid 10001 graceful-sequence \
	&& useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /application \
		--shell /usr/sbin/nologin graceful-sequence \
	&& install -d -o 10001 -g 10001 /application /data
WORKDIR /application
# One image layer per jar layer, the least often changed first
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./
USER 10001:10001
ENV SEQUENCE_STATE_FILE=/data/last-num-from-seq.txt
# The training run (deploy/aot/train.sh) starts the application, sends it requests on every
# endpoint, a stream among them, and stops it with SIGTERM; the JVM records the classes it
# loaded and linked, and the profiles of the methods it ran, into app.aot. It runs here, on the runtime image, because a cache is
# only used by the very JVM build that wrote it, from the same class path: a cache trained on
# the JDK image of the build stage could be silently ignored. It runs with the same flags as
# the ENTRYPOINT. It keeps its state file in a temporary directory, not in /data, and it must
# come before VOLUME, since build steps that change a volume are discarded.
#
# Memory and GC flags, for a small service alone in its container:
# -XX:MaxRAMPercentage=75.0   the heap may use 75% of the container's memory limit, instead of
#                             the default 25%; the rest is for metaspace, thread stacks, code
#                             cache and direct buffers.
# -XX:+UseSerialGC            a heap of a few hundred MB on one or two CPUs is collected fastest
#                             and with the least memory overhead by the serial collector. The JVM
#                             picks it anyway below 2 CPUs or 1792 MB; saying so keeps the choice
#                             the same whatever the limits, and the same in the training run.
# -XX:+ExitOnOutOfMemoryError a JVM that ran out of memory is in an unknown state: exit and let
#                             the orchestrator restart it. The state file is written for every
#                             value, so this loses no more than a kill -9 does.
COPY --chmod=0755 deploy/aot/train.sh /usr/local/bin/train-aot-cache
RUN /usr/local/bin/train-aot-cache java -XX:MaxRAMPercentage=75.0 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:AOTCacheOutput=app.aot -jar application.jar
VOLUME /data
EXPOSE 3333
# Exit status: 143 after SIGTERM, 130 after SIGINT (the JVM's 128 + signal number)
STOPSIGNAL SIGTERM
# Exec form: the JVM is PID 1 and receives the stop signal itself; a shell in between would
# not pass it on. Arguments given to docker run are appended (e.g. --sequence.period=1s).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75.0", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-XX:AOTCache=app.aot", "-jar", "application.jar"]
