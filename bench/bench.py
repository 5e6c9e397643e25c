#!/usr/bin/env python3
"""Side-by-side benchmark of graceful-sequence, go-seed and spring-plain.

Started by bench/run.sh, which builds everything first. Every process this script
starts is recorded and ended by its PID (SIGKILL for whatever is still alive when the
script ends, however it ends); every load is bounded in time; everything listens on
127.0.0.1 on free ports. Raw samples go to bench/out/results.json, the report to
docs/benchmarks.md and the chart to docs/benchmarks.svg.
"""

import argparse
import atexit
import datetime
import http.client
import json
import os
import platform
import queue
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import report

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
RESULTS = os.path.join(OUT, "results.json")
# A copy that is committed with docs/benchmarks.md, so that --report works from a fresh clone
KEPT_RESULTS = os.path.join(HERE, "results.json")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
CHART = os.path.join(ROOT, "docs", "benchmarks.svg")

# JVM flags of the "recommended flags" variant (README): a small heap for a small service
DEFAULT_LEAN_FLAGS = ("-XX:+UseSerialGC -Xms16m -Xmx64m -Xss512k -XX:TrimNativeHeapInterval=1000 "
                      "-XX:TieredStopAtLevel=1")

# JVM flags of the container's command line (Dockerfile, ENTRYPOINT), for graceful-sequence's
# Java 25 + AOT cache variants; bench/run.sh trains the cache with the same ones
CONTAINER_FLAGS = ["-XX:MaxRAMPercentage=75.0", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError"]

# JVM flags of the fan-out: the serial collector and the heap that docs/streams.md gives for
# 10,000 streams (the default cap: 52 KiB a stream), and an exit rather than a sick JVM if that
# were too small
FANOUT_FLAGS = ["-XX:+UseSerialGC", "-Xmx1g", "-XX:+ExitOnOutOfMemoryError"]

# The fan-out scenarios: (name, streams, sequence.period, measurement window in s).
# The last runs a minute, so that its p99 per 10 s slice shows whether the lag grows.
FANOUT_SCENARIOS = [
    ("1k-200ms", 1000, "200ms", 20),
    ("10k-1s", 10000, "1s", 20),
    ("10k-200ms", 10000, "200ms", 60),
]
# --quick only checks the harness: fewer streams, short windows
QUICK_FANOUT_SCENARIOS = [
    ("1k-200ms", 1000, "200ms", 5),
    ("2k-1s", 2000, "1s", 5),
    ("2k-200ms", 2000, "200ms", 10),
]
FANOUT_SLICE_SECONDS = 10

# The fan-out client: the load tool's `fanout` (bench/load/, Go, a goroutine per stream over every
# core), built by bench/build-load.sh (which bench/run.sh runs) into bench/out/load
GO_FANOUT_CLIENT = os.path.join(OUT, "load")

# Boot properties of the "boot-tomcat" variant, measured under load only: Spring Boot's Tomcat
# defaults in place of the service's eight workers and long keep-alive, to show what those give
DEFAULT_BOOT_TOMCAT_ARGS = ("--server.tomcat.threads.max=200 --server.tomcat.threads.min-spare=10 "
                            "--server.tomcat.max-keep-alive-requests=100")

GS, SP, GO = "graceful-sequence", "spring-plain", "go-seed"

# variant -> (service, label)
VARIANTS = {
    "gs-17": (GS, "graceful-sequence, Java 17, java -jar"),
    "gs-17-lean": (GS, "graceful-sequence, Java 17, java -jar with the recommended flags"),
    "gs-17-boot-tomcat": (GS, "graceful-sequence, Java 17, java -jar with Spring Boot's Tomcat defaults "
                             "(200 workers, 100 requests per connection)"),
    "gs-17-fanout": (GS, "graceful-sequence, Java 17, java -jar with the heap documented for 10,000 streams"),
    "sp-17": (SP, "spring-plain, Java 17, java -jar"),
    "gs-25-aot": (GS, "graceful-sequence, Java 25, extracted jar + AOT cache"),
    "gs-25-aot-c1": (GS, "graceful-sequence, Java 25, extracted jar + AOT cache, C1 only (-XX:TieredStopAtLevel=1)"),
    "sp-25-aot": (SP, "spring-plain, Java 25, extracted jar + AOT cache"),
    "go": (GO, "go-seed"),
}

children = []


def cleanup():
    for proc in children:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def log(message):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_busy(seconds=1.0):
    """Fraction of all CPU time spent busy over the next few moments, whoever spends it."""

    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / float(max(1, total1 - total0))


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy seconds of all CPUs, total seconds of all CPUs, monotonic now)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return (total - idle) / float(CLOCK_TICKS), total / float(CLOCK_TICKS), time.monotonic()


def thread_cpu(pid):
    """Native thread id -> (name from /proc, CPU seconds so far) of every thread of a process."""
    found = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return found
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        rest = data[data.rindex(")") + 2:].split()
        found[int(tid)] = (comm, (int(rest[11]) + int(rest[12])) / float(CLOCK_TICKS))
    return found


def thread_group(name):
    """The part of the service a thread belongs to, by its Java name."""
    if name.startswith("sequence-fan-ou"):
        return "fan-out lanes"
    if name.startswith("sequence-producer"):
        return "producer (and fsync)"
    if name.endswith("-Poller") or name.endswith("-ClientPoller"):
        return "Tomcat poller"
    if "-exec-" in name:
        return "Tomcat workers"
    if name.endswith("-Acceptor"):
        return "Tomcat acceptor"
    if name == "VM Thread":
        return "VM thread (serial GC, safepoints)"
    if "CompilerThread" in name:
        return "JIT compilers"
    return "other"


def cpu_by_group(before, after, names):
    groups = {}
    for tid, (comm, cpu) in after.items():
        spent = cpu - before.get(tid, (comm, 0.0))[1]
        group = thread_group(names.get(tid, comm))
        groups[group] = groups.get(group, 0.0) + spent
    return groups


def stream_client(argv):
    """Start a fan-out client (`load fanout`), whose stdout says OPEN n, WINDOW s and RESULT
    json, one line each. Returns the process, recorded to be ended by its
    PID, and expect(prefix, limit): the rest of the next line with that prefix, within limit
    seconds (other lines are logged)."""
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              stdin=subprocess.DEVNULL)
    children.append(client)
    lines = queue.Queue()

    def pump():
        for line in client.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()

    def expect(prefix, limit):
        deadline = time.monotonic() + limit
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                raise RuntimeError("stream client: no %s line" % prefix)
            if line.startswith(prefix):
                return line[len(prefix):].strip()
            if line:
                log("stream client: " + line)

    return client, expect


class StartupFailed(RuntimeError):
    """The service ended, or logged that it could not start, before it was ready."""


class Runner:
    def __init__(self, args):
        self.args = args
        self.quick = args.mode == "quick"
        self.rounds = int(os.environ.get("ROUNDS", "1" if self.quick else "3"))
        self.warmup = 5 if self.quick else 20
        self.duration = 5 if self.quick else 10
        self.fanout_scenarios = QUICK_FANOUT_SCENARIOS if self.quick else FANOUT_SCENARIOS
        self.fanout_client = getattr(args, "fanout_client", None) or GO_FANOUT_CLIENT
        self.lean_flags = shlex.split(os.environ.get("GS_LEAN_FLAGS", DEFAULT_LEAN_FLAGS))
        self.samples = {}
        self.extra = {"gs_steps": [], "drain": [], "fanout": [], "wrk": [], "loads": [], "busy_before": [],
                      "quiet_waits": [], "exit_timeline": []}
        self.quiet_busy = float(os.environ.get("QUIET_BUSY", "0.25"))
        self.quiet_wait = float(os.environ.get("QUIET_WAIT", "10" if self.quick else "15"))
        self.boot_tomcat_args = shlex.split(os.environ.get("GS_BOOT_TOMCAT_ARGS", DEFAULT_BOOT_TOMCAT_ARGS))
        self.phases = os.environ.get("PHASES", "launch,load,fanout").split(",")
        self.run_dir = os.path.join(OUT, "runs")
        os.makedirs(self.run_dir, exist_ok=True)
        self.seq = 0

    # -- bookkeeping ------------------------------------------------------------

    def wait_for_quiet(self, what):
        """Other builds share this machine: wait (bounded) until the CPUs are mostly idle."""
        started = time.monotonic()
        busy = cpu_busy()
        while busy > self.quiet_busy and time.monotonic() - started < self.quiet_wait:
            busy = cpu_busy(2.0)
        waited = time.monotonic() - started
        self.extra["busy_before"].append(busy)
        self.extra["quiet_waits"].append(waited)
        if busy > self.quiet_busy:
            log("%s: CPUs still %.0f%% busy after waiting %.0f s; measuring anyway" % (what, 100 * busy, waited))

    def add(self, figure, variant, value):
        self.samples.setdefault(figure, {}).setdefault(variant, []).append(value)
        self.extra["loads"].append(loadavg())

    def command(self, variant, port, extra_args=()):
        a = self.args
        env = dict(os.environ)
        address = "--server.address=127.0.0.1"
        gs_args = ["--server.port=%d" % port, address] + list(extra_args)
        if variant == "gs-17":
            argv = [a.java17, "-jar", a.jar] + gs_args
        elif variant == "gs-17-boot-tomcat":
            argv = [a.java17, "-jar", a.jar] + gs_args + self.boot_tomcat_args
        elif variant == "gs-17-lean":
            argv = [a.java17] + self.lean_flags + ["-jar", a.jar] + gs_args
        elif variant == "gs-17-fanout":
            argv = [a.java17] + FANOUT_FLAGS + ["-jar", a.jar] + gs_args
        elif variant == "sp-17":
            argv = [a.java17, "-jar", a.plain_jar, address]
            env["PORT"] = str(port)
        elif variant in ("gs-25-aot", "gs-25-aot-c1", "sp-25-aot"):
            name = GS if variant.startswith("gs") else SP
            source = a.jar if name == GS else a.plain_jar
            base = os.path.join(OUT, "aot", name)
            argv = [a.java25] + (CONTAINER_FLAGS if name == GS else [])
            argv += ["-XX:TieredStopAtLevel=1"] if variant.endswith("-c1") else []
            argv += ["-XX:AOTCache=" + os.path.join(base, "app.aot"), "-jar",
                     os.path.join(base, "app", os.path.basename(source))]
            argv += gs_args if name == GS else [address]
            if name == SP:
                env["PORT"] = str(port)
        elif variant == "go":
            argv = [a.go]
            env["PORT"] = str(port)
            env["BIND_ADDRESS"] = "127.0.0.1"
        else:
            raise ValueError(variant)
        return argv, env

    def describe(self, variant):
        argv, env = self.command(variant, 0)
        prefix = ["%s=%s" % (k, "$PORT" if v == "0" else v) for k, v in sorted(env.items())
                  if os.environ.get(k) != v]
        words = [shlex.quote(x) for x in argv]
        return " ".join(prefix + words).replace("--server.port=0", "--server.port=$PORT").replace(ROOT + "/", "")

    def spawn(self, variant, port, extra_args=()):
        argv, env = self.command(variant, port, extra_args)
        self.seq += 1
        cwd = os.path.join(self.run_dir, "%03d-%s" % (self.seq, variant))
        os.makedirs(cwd, exist_ok=True)
        for name in os.listdir(cwd):
            os.remove(os.path.join(cwd, name))
        logfile = open(os.path.join(cwd, "out.log"), "wb")
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        children.append(proc)
        logfile.close()
        proc.log_path = os.path.join(cwd, "out.log")
        return proc, started

    def wait_ready(self, proc, port, started, limit=180.0, any_answer=False):
        """Seconds from start until GET /sequence/last answers 200, or, with any_answer,
        answers at all: graceful-sequence, like the Go original's ticker, has its first
        value one period after start and answers 404 until then (without a state file)."""
        request = b"GET /sequence/last HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        expected = (b"HTTP/1.",) if any_answer else (b"HTTP/1.1 200", b"HTTP/1.0 200")
        checked = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise StartupFailed("process %d exited with %s before it was ready; see %s"
                                    % (proc.pid, proc.returncode, proc.log_path))
            if time.monotonic() - checked > 1.0:
                checked = time.monotonic()
                with open(proc.log_path, errors="replace") as f:
                    if "APPLICATION FAILED TO START" in f.read():
                        raise StartupFailed("process %d failed to start (see %s)" % (proc.pid, proc.log_path))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(request)
                    data = s.recv(16)
                    if data.startswith(expected):
                        return time.monotonic() - started
            except OSError:
                pass
            if time.monotonic() - started > limit:
                raise RuntimeError("process %d not ready within %s s" % (proc.pid, limit))
            time.sleep(0.01)

    def terminate(self, proc, limit=90.0):
        """SIGTERM, then wait for the PID; returns milliseconds from signal to exit.

        Waits with a blocking waitpid: Popen.wait(timeout=...) polls with sleeps of up to
        50 ms, which would blur exit times by as much as the drain target."""
        killed = []

        def kill():
            killed.append(True)
            os.kill(proc.pid, signal.SIGKILL)

        watchdog = threading.Timer(limit, kill)
        watchdog.daemon = True
        started = time.monotonic()
        proc.sigterm_wall = time.time()
        os.kill(proc.pid, signal.SIGTERM)
        watchdog.start()
        proc.wait()
        exited = time.monotonic()
        proc.exit_wall = time.time()
        watchdog.cancel()
        if killed:
            raise RuntimeError("process %d did not exit within %s s of SIGTERM" % (proc.pid, limit))
        return 1000.0 * (exited - started), exited

    def steps(self, proc, variant, situation):
        with open(proc.log_path, errors="replace") as f:
            text = f.read()
        self.exit_timeline(proc, variant, situation, text)
        if VARIANTS[variant][0] != GS:
            return
        found = {"%s (%s)" % (m.group(1), m.group(2)): int(m.group(3)) for m in
                 re.finditer(r"Shutdown step (\d) \(([\w-]+)\) completed in (\d+) ms", text)}
        total = re.search(r"Graceful shutdown completed in (\d+) ms", text)
        if total:
            found["total (logged)"] = int(total.group(1))
        self.extra["gs_steps"].append({"variant": variant, "situation": situation, "steps": found})

    def exit_timeline(self, proc, variant, situation, text):
        """Where the time from SIGTERM to exit goes, from the log's millisecond timestamps."""
        if VARIANTS[variant][0] == GO or not hasattr(proc, "exit_wall"):
            return

        def stamp(pattern):
            found = None
            for line in text.splitlines():
                if re.search(pattern, line):
                    found = line
            if found is None:
                return None
            match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)([+-]\d\d:\d\d|Z)", found)
            if not match:
                return None
            zone = "+00:00" if match.group(2) == "Z" else match.group(2)
            return datetime.datetime.fromisoformat(match.group(1) + zone).timestamp()

        # graceful-sequence logs Boot's "Commencing graceful shutdown" too, but only in step 5
        first = r"Shutdown step 1 " if VARIANTS[variant][0] == GS else r"Commencing graceful shutdown"
        marks = {"first shutdown log line": stamp(first),
                 "last shutdown step logged": stamp(r"Graceful shutdown completed in|Graceful shutdown complete"),
                 "bye logged": stamp(r"I'm leaving, bye!")}
        timeline = {name: (None if t is None else round(1000.0 * (t - proc.sigterm_wall), 1))
                    for name, t in marks.items()}
        timeline["process exit"] = round(1000.0 * (proc.exit_wall - proc.sigterm_wall), 1)
        self.extra["exit_timeline"].append({"variant": variant, "situation": situation, "ms_after_sigterm": timeline})

    # -- phases -----------------------------------------------------------------

    def launch_and_idle(self, variant):
        self.wait_for_quiet(variant)
        port = free_port()
        proc, started = self.spawn(variant, port)
        ready = self.wait_ready(proc, port, started, any_answer=True)
        self.add("launch_ms", variant, 1000.0 * ready)
        time.sleep(5.0)
        self.add("rss_idle_mib", variant, proc_status(proc.pid, "VmRSS") / 1024.0)
        self.add("threads_idle", variant, proc_status(proc.pid, "Threads"))
        exit_ms, _ = self.terminate(proc)
        self.add("idle_exit_ms", variant, exit_ms)
        self.steps(proc, variant, "idle")
        log("%-11s launch %.0f ms, idle RSS %.0f MiB, idle SIGTERM to exit %.1f ms (status %s)"
            % (variant, 1000 * ready, self.samples["rss_idle_mib"][variant][-1], exit_ms, proc.returncode))

    def wrk(self, port, seconds, latency):
        argv = ["wrk", "-t2", "-c64", "-d%ds" % seconds]
        if latency:
            argv.append("--latency")
        argv.append("http://127.0.0.1:%d/sequence/last" % port)
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        children.append(proc)
        output, _ = proc.communicate(timeout=seconds + 60)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        p99 = None
        match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
        if match:
            p99 = float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        errors = re.search(r"Socket errors: (.*)", output)
        return {"rps": rps, "p99_ms": p99, "non_2xx": int(bad.group(1)) if bad else 0,
                "socket_errors": errors.group(1) if errors else "", "argv": " ".join(argv)}

    def load_and_drain(self, variant):
        service = VARIANTS[variant][0]
        self.wait_for_quiet(variant)
        port = free_port()
        proc, started = self.spawn(variant, port)
        self.wait_ready(proc, port, started)
        warm = self.wrk(port, self.warmup, False)
        self.add("warmup_rps", variant, warm["rps"])
        measured = self.wrk(port, self.duration, True)
        self.add("rps", variant, measured["rps"])
        self.add("p99_ms", variant, measured["p99_ms"])
        self.add("rss_load_mib", variant, proc_status(proc.pid, "VmRSS") / 1024.0)
        self.add("threads_load", variant, proc_status(proc.pid, "Threads"))
        self.extra["wrk"].append({"variant": variant, "warmup": warm, "measured": measured})
        log("%-11s warm-up %.0f req/s, then %.0f req/s, p99 %.2f ms, RSS %.0f MiB (non-2xx %d, %s)"
            % (variant, warm["rps"], measured["rps"], measured["p99_ms"],
               self.samples["rss_load_mib"][variant][-1], measured["non_2xx"], measured["socket_errors"]))
        time.sleep(1.0)
        self.drain(proc, port, variant, service)

    def drain(self, proc, port, variant, service):
        """A request in flight at SIGTERM that completes about 1 s later; exit minus its completion."""
        if service == GS:
            # Wait for a value, so that the next one comes one period (2 s) later
            first = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            first.request("GET", "/sequence/next?timeout=10s")
            first.getresponse().read()
            first.close()
            path = "/sequence/next?timeout=30s"
        else:
            path = "/slow?ms=2000"
        sent = threading.Event()
        outcome = {}

        def in_flight():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", path)
                outcome["sent"] = time.monotonic()
                sent.set()
                response = conn.getresponse()
                response.read()
                outcome["done"] = time.monotonic()
                outcome["status"] = response.status
                outcome["connection"] = response.getheader("Connection")
                conn.close()
            except Exception as ex:  # recorded in the report
                outcome["error"] = repr(ex)
                outcome["done"] = time.monotonic()
                sent.set()

        thread = threading.Thread(target=in_flight, daemon=True)
        thread.start()
        sent.wait(10)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - outcome.get("sent", time.monotonic()))))
        signalled = time.monotonic()
        exit_ms, exited = self.terminate(proc)
        thread.join(60)
        overshoot = 1000.0 * (exited - outcome["done"])
        record = {"variant": variant, "path": path, "status": outcome.get("status"),
                  "error": outcome.get("error"), "connection": outcome.get("connection"),
                  "completed_after_sigterm_ms": round(1000.0 * (outcome["done"] - signalled), 1),
                  "exit_after_sigterm_ms": round(exit_ms, 1), "overshoot_ms": round(overshoot, 1),
                  "exit_status": proc.returncode}
        self.extra["drain"].append(record)
        self.add("drain_overshoot_ms", variant, overshoot)
        self.steps(proc, variant, "drain")
        log("%-11s drain: request %s completed %.0f ms after SIGTERM, exit %.1f ms after that (Connection: %s)"
            % (variant, record["status"] or record["error"], record["completed_after_sigterm_ms"], overshoot,
               record["connection"]))

    def fanout(self, scenario, variant="gs-17-fanout", argv=None, extra_args=(), label=None, profile=None):
        """One fan-out scenario on a fresh process: N streams at a period, a window of
        lag figures, RSS per stream, CPU by thread, then SIGTERM with every stream open.

        argv, if given, is a function of the port that returns the service's command line
        (bench/fanout.sh's jars); otherwise the variant's command. profile, if given, is a
        .jfc file: a JFR recording of 30 s starts as the window does (it costs CPU: keep
        such runs out of the medians)."""
        name, streams, period, seconds = scenario
        label = label or variant
        self.wait_for_quiet("fan-out %s %s" % (label, name))
        busy_before = self.extra["busy_before"][-1]
        args = ["--sequence.period=" + period] + list(extra_args)
        for attempt in range(3):
            # The free port can be taken by another tenant's process before the service binds it
            port = free_port()
            if argv is None:
                proc, started = self.spawn(variant, port, args)
            else:
                proc, started = self.spawn_argv(label, argv(port) + args)
            try:
                self.wait_ready(proc, port, started)
                break
            except StartupFailed as ex:
                log("%s; trying another port" % ex)
                # A failed start can leave the JVM running (a non-daemon thread): end it by its PID
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(30)
        else:
            raise RuntimeError("fan-out %s %s: the service did not start in 3 attempts" % (label, name))
        time.sleep(3.0)
        rss_idle = proc_status(proc.pid, "VmRSS")
        threads_idle = proc_status(proc.pid, "Threads")
        client_argv = self.client_command(port, streams, seconds)
        client, expect = stream_client(client_argv)
        try:
            opened = int(expect("OPEN", 300))
            # Only /proc here: a JDK tool (jstat, jcmd) is a JVM of its own, whose start would take
            # CPU from the window on 2 cores
            cpu0, threads0, load0 = machine_cpu(), thread_cpu(proc.pid), loadavg()
            jfr_file = None
            if profile:
                jfr_file = os.path.join(os.path.dirname(proc.log_path), "fanout.jfr")
                self.jcmd(proc.pid, "JFR.start", "name=fanout", "duration=30s", "settings=" + profile,
                          "filename=" + jfr_file)
            time.sleep(min(2.0, seconds / 2.0))
            rss_open = proc_status(proc.pid, "VmRSS")
            threads_open = proc_status(proc.pid, "Threads")
            expect("WINDOW", seconds + 60)
            cpu1, threads1, load1 = machine_cpu(), thread_cpu(proc.pid), loadavg()
            names = self.thread_names(proc.pid)
            exit_ms, _ = self.terminate(proc)
            result = json.loads(expect("RESULT", 120))
            client.wait(30)
        finally:
            if client.poll() is None:
                os.kill(client.pid, signal.SIGKILL)
                client.wait(10)
        self.steps(proc, variant, ("streams-%s" % name) if argv is None else ("%s, streams-%s" % (label, name)))
        window = max(1e-3, cpu1[2] - cpu0[2])
        by_group = cpu_by_group(threads0, threads1, names)
        server_cpu = sum(by_group.values())
        record = dict(result)
        record.update({"scenario": name, "label": label, "streams": streams, "period": period,
                       "seconds": seconds, "opened_with_first_event": opened, "rss_idle_kib": rss_idle,
                       "rss_open_kib": rss_open, "rss_per_subscriber_kib": (rss_open - rss_idle) / float(streams),
                       "threads_idle": threads_idle, "threads_open": threads_open, "exit_ms": exit_ms,
                       "exit_status": proc.returncode, "busy_before": busy_before,
                       "loadavg_window": [load0, load1],
                       # CPU over the window, in cores (1.0 = one core all the time)
                       "machine_cores_busy": round((cpu1[0] - cpu0[0]) / window, 3),
                       "server_cores": round(server_cpu / window, 3),
                       "server_cores_by_thread": {k: round(v / window, 3) for k, v in
                                                  sorted(by_group.items(), key=lambda kv: -kv[1])},
                       "jfr": jfr_file,
                       "client_argv": " ".join(shlex.quote(x) for x in client_argv).replace(ROOT + "/", ""),
                       "server_argv": " ".join(shlex.quote(x) for x in proc.args).replace(ROOT + "/", "")})
        record["others_cores"] = round(record["machine_cores_busy"] - record["server_cores"]
                                       - (result.get("client_cpu_share") or 0.0), 3)
        self.extra["fanout"].append(record)
        if argv is None:
            for key in ("lag_p50_ms", "lag_p99_ms", "lag_max_ms"):
                self.add("fanout_%s_%s" % (key, name), variant, result[key])
            self.add("fanout_rss_per_sub_kib_" + name, variant, record["rss_per_subscriber_kib"])
            self.add("fanout_threads_" + name, variant, threads_open)
            self.add("fanout_exit_ms_" + name, variant, exit_ms)
        log("fan-out %s %s: %d open, lag p50 %.1f p99 %.1f max %.1f ms, p99 per %d s %s, %d id violations, "
            "%d gaps, %.1f KiB per stream, SIGTERM to exit %.0f ms, %d/%d saw shutdown; cores: server %.2f "
            "(%s), client %.2f, others %.2f"
            % (label, name, opened, result["lag_p50_ms"] or -1, result["lag_p99_ms"] or -1,
               result["lag_max_ms"] or -1, result.get("slice_seconds", 0),
               result.get("lag_p99_ms_slices"), result.get("id_violations", -1), result.get("gaps", -1),
               record["rss_per_subscriber_kib"], exit_ms, result["saw_shutdown"], result["opened"],
               record["server_cores"], ", ".join("%s %.2f" % kv for kv in
                                                 list(record["server_cores_by_thread"].items())[:4]),
               result.get("client_cpu_share") or -1, record["others_cores"]))
        return record

    def client_command(self, port, streams, seconds):
        if not os.path.exists(self.fanout_client):
            raise RuntimeError("no load tool at %s (bench/build-load.sh builds it)" % self.fanout_client)
        return [self.fanout_client, "fanout", "-port", str(port), "-streams", str(streams), "-seconds", str(seconds),
                "-slice", str(FANOUT_SLICE_SECONDS), "-open-timeout", "240"]

    def spawn_argv(self, label, argv):
        """Like spawn, with a command line of the caller's (bench/fanout.sh's jars)."""
        self.seq += 1
        cwd = os.path.join(self.run_dir, "%03d-%s" % (self.seq, label))
        os.makedirs(cwd, exist_ok=True)
        for name in os.listdir(cwd):
            os.remove(os.path.join(cwd, name))
        logfile = open(os.path.join(cwd, "out.log"), "wb")
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        children.append(proc)
        logfile.close()
        proc.log_path = os.path.join(cwd, "out.log")
        return proc, started

    def jdk_tool(self, name):
        return os.path.join(os.path.dirname(self.args.java17), name)

    def jcmd(self, pid, *command):
        return subprocess.run([self.jdk_tool("jcmd"), str(pid)] + list(command), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60).stdout

    def thread_names(self, pid):
        """Native thread id -> Java thread name (/proc cuts names at 15 characters)."""
        names = {}
        try:
            text = self.jcmd(pid, "Thread.print")
        except (OSError, subprocess.TimeoutExpired):
            return names
        for match in re.finditer(r'^"([^"]+)".*?\bnid=(0x[0-9a-f]+|\d+)', text, re.M):
            nid = match.group(2)
            names[int(nid, 16) if nid.startswith("0x") else int(nid)] = match.group(1)
        return names

    # -- the run ----------------------------------------------------------------

    def run(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        load_start = open("/proc/loadavg").read().split()[:3]
        launch_order = ["gs-17", "sp-17", "go", "gs-25-aot", "sp-25-aot", "gs-17-lean", "gs-25-aot-c1"]
        load_order = ["gs-17", "sp-17", "go", "gs-17-lean", "gs-17-boot-tomcat", "gs-25-aot"]
        for r in range(self.rounds):
            log("round %d of %d (load average %.2f)" % (r + 1, self.rounds, loadavg()))
            # Interleaved: every variant once per round, starting one further each round
            if "launch" in self.phases:
                for variant in launch_order[r % len(launch_order):] + launch_order[:r % len(launch_order)]:
                    self.launch_and_idle(variant)
            if "load" in self.phases:
                for variant in load_order[r % len(load_order):] + load_order[:r % len(load_order)]:
                    self.load_and_drain(variant)
            if "fanout" in self.phases:
                for scenario in self.fanout_scenarios:
                    self.fanout(scenario)
            self.save(started, load_start, r + 1)
            if r + 1 < self.rounds:
                report.write(RESULTS, DOC, CHART)

    def save(self, started, load_start, rounds_done):
        finished = datetime.datetime.now(datetime.timezone.utc)
        meta = machine_facts(self.args)
        meta.update({
            "mode": self.args.mode, "rounds": rounds_done, "rounds_planned": self.rounds,
            "boot_tomcat_args": " ".join(self.boot_tomcat_args), "warmup_s": self.warmup, "duration_s": self.duration,
            "fanout_scenarios": self.fanout_scenarios, "fanout_flags": " ".join(FANOUT_FLAGS),
            "fanout_client": os.path.relpath(self.fanout_client, ROOT),
            "lean_flags": " ".join(self.lean_flags),
            "started": started.strftime("%Y-%m-%d %H:%M UTC"), "finished": finished.strftime("%Y-%m-%d %H:%M UTC"),
            "minutes": round((finished - started).total_seconds() / 60.0, 1),
            "loadavg_start": load_start, "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "commands": {v: self.describe(v) for v in VARIANTS},
        })
        # A quick run only checks the harness: it leaves the committed results alone
        for path in (RESULTS,) if self.quick else (RESULTS, KEPT_RESULTS):
            with open(path, "w") as f:
                json.dump({"meta": meta, "samples": self.samples, "extra": self.extra}, f, indent=1)
        log("raw results in " + RESULTS)


def is_full_run(path):
    """Whether path holds the results of a full run (a quick run's never reach the docs)."""
    if not os.path.exists(path):
        return False
    with open(path) as f:
        return json.load(f).get("meta", {}).get("mode") == "full"


def first_line(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60).stdout
        return out.strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return ["unknown"]


def machine_facts(args):
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kib / 1024.0 / 1024.0, 1),
        "kernel": platform.release(),
        "java17": first_line([args.java17, "-version"])[:2],
        "java25": first_line([args.java25, "-version"])[:2],
        "go": first_line(["go", "version"])[:1],
        "wrk": first_line(["wrk", "--version"])[:1],
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["full", "quick"], default="full")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--jar")
    parser.add_argument("--plain-jar")
    parser.add_argument("--go")
    parser.add_argument("--java17")
    parser.add_argument("--java25")
    parser.add_argument("--fanout-client", help="the load tool, whose `fanout` is the fan-out client (default "
                        "bench/out/load)")
    arguments = parser.parse_args()

    if not arguments.report:
        atexit.register(cleanup)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        Runner(arguments).run()
    if arguments.mode == "quick" and not arguments.report:
        # Only a check of the harness: its report goes next to its raw results, not over the docs
        quick_doc = os.path.join(os.path.dirname(RESULTS), "benchmarks-quick.md")
        report.write(RESULTS, quick_doc, os.path.join(os.path.dirname(RESULTS), "benchmarks-quick.svg"))
    else:
        report.write(RESULTS if is_full_run(RESULTS) else KEPT_RESULTS, DOC, CHART)
