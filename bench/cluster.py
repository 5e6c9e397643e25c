#!/usr/bin/env python3
"""Cluster mode side by side with local mode, interleaved rounds, one run (bench/cluster.sh).

Each round runs every mode once (local, cluster and replicas; --modes picks some), in an
order that rotates from round to round, on the same layout: two instances of the jar (Java 17,
bench.py's FANOUT_FLAGS, a 200 ms period). In local mode they are two independent instances;
in cluster mode they share a Redis of the run's own (redis-server with deploy/redis/redis.conf,
on a free loopback port, in the run's directory), instance 1 started first and so the leader,
instance 2 a follower. Replicas mode is cluster mode with --sequence.cluster.replicas=1 on a
primary started as in cluster mode plus two replicas of it (the same redis.conf with
--replicaof, each on a free loopback port and in a directory of its own), the instances started
once the primary's INFO replication shows both online. For each:

1. throughput of GET /sequence/last on instance 2 (the follower in cluster mode): bench.py's
   wrk warm-up and measured run (not in replicas mode: /sequence/last is not on the write path);
2. in cluster and replicas mode, the Redis cost of a window with no client: every command that
   reaches Redis (the primary), by connection (MONITOR, its lines timed by Redis' clock), the
   TCP payload bytes of every connection of each instance (ss -ti, sampled every 100 ms), INFO
   stats and commandstats before and after as a cross-check, divided by the values appended in
   the window (committed, in replicas mode);
3. the fan-out: 1,000 streams on each instance with `load fanout -ports`, lag = receipt -
   emittedAt, per instance and together; in cluster and replicas mode the sequence.cluster.delay
   histogram of each instance, scraped when the window opens and when it closes, and in replicas
   mode the commit stalls over the window and the replicas that acknowledged the last value.

Then SIGTERM to each instance and to Redis (the replicas, then the primary), by PID. Raw results go to
bench/out/cluster-results.json (and, for a full run with the defaults, bench/cluster-results.json,
committed with docs/benchmarks.md, whose cluster section report.py writes from it).
"""

import argparse
import atexit
import datetime
import hashlib
import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import report  # noqa: E402

ROOT = bench.ROOT
OUT = bench.OUT
RESULTS = os.path.join(OUT, "cluster-results.json")
KEPT_RESULTS = report.CLUSTER_RESULTS
REDIS_CONF = os.path.join(ROOT, "deploy", "redis", "redis.conf")
SCRIPTS = os.path.join(ROOT, "src", "main", "resources", "cluster")

DEFAULT_PERIOD = "200ms"
DEFAULT_STREAMS = 1000
DEFAULT_STREAMS_ON = "1,2"
# Every mode, in the order of the first round; the modes with Redis
MODES = ("local", "cluster", "replicas")
CLUSTER_MODES = ("cluster", "replicas")
# Replicas mode: replicas of the primary, and how many of them hold a value before it is
# committed (sequence.cluster.replicas): two, as deploy/redis/redis.conf says a Sentinel set needs
REPLICAS = 2
WAIT_REPLICAS = 1
SS_INTERVAL = 0.1


def log(message):
    bench.log("cluster: " + message)


class Redis:
    """A minimal RESP client for the harness's own look at Redis (TIME, INFO, CLIENT LIST,
    MONITOR), which counts the bytes it sends and receives so that they can be taken out of
    Redis' own totals."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.sent = 0
        self.received = 0

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def call(self, *args):
        words = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        data = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
        self.sock.sendall(data)
        self.sent += len(data)
        return self.reply()

    def line(self):
        line = self.file.readline()
        self.received += len(line)
        if not line:
            raise ConnectionError("Redis closed the connection")
        return line[:-2]

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("Redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.file.read(size + 2)
            self.received += len(data)
            return data[:-2].decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.reply() for _ in range(size)]
        raise RuntimeError("unexpected reply from Redis: %r" % line)

    def time(self):
        seconds, micros = self.call("TIME")
        return int(seconds) + int(micros) / 1e6

    def info(self, section):
        found = {}
        for line in self.call("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                key, value = line.split(":", 1)
                found[key] = value
        return found

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def command_stats(info):
    """INFO commandstats -> {command: calls}."""
    found = {}
    for key, value in info.items():
        if key.startswith("cmdstat_"):
            found[key[len("cmdstat_"):]] = int(re.search(r"calls=(\d+)", value).group(1))
    return found


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before) if after.get(k, 0) != before.get(k, 0)}


class Monitor(threading.Thread):
    """MONITOR on a connection of its own: every command Redis runs, with Redis' time and the
    client's address ("lua" for the commands of a script, right after the script's call)."""

    LINE = re.compile(r'^\+?(\d+\.\d+) \[\d+ ([^\]]+)\] (.*)$')

    def __init__(self, port):
        super().__init__(name="redis-monitor", daemon=True)
        self.redis = Redis(port, timeout=None)
        self.redis.call("MONITOR")
        self.lines = []
        self.stopped = False

    def run(self):
        try:
            while True:
                line = self.redis.line().decode(errors="replace")
                match = self.LINE.match(line)
                if match:
                    try:
                        words = shlex.split(match.group(3))
                    except ValueError:
                        # An argument that shlex cannot read: its command's name is what counts
                        words = match.group(3).replace('"', " ").split()
                    self.lines.append((float(match.group(1)), match.group(2), words))
        except (OSError, ConnectionError):
            if not self.stopped:
                raise

    def stop(self):
        self.stopped = True
        self.redis.close()
        self.join(10)


class SocketSampler(threading.Thread):
    """The TCP payload bytes of every connection to Redis, by local port, from the kernel
    (ss -ti: bytes_acked, bytes_received), with the process that holds it (ss -p), sampled
    until stopped. Redis 7.0's CLIENT LIST has no byte counters per client. A connection
    that its process has closed keeps its counters, without a process, until it is gone: it
    keeps the process it had. One opened and closed between two samples is missed: the INFO
    totals show how much that is."""

    ADDRESSES = re.compile(r'(\S+):(\d+)\s+(\S+):(\d+)')
    PROCESS = re.compile(r'users:\(\("[^"]+",pid=(\d+)')

    def __init__(self, redis_port):
        super().__init__(name="ss-sampler", daemon=True)
        self.redis_port = redis_port
        self.connections = {}
        self.replaced = []
        self.counting = False
        self.halt = threading.Event()
        self.samples = 0
        # Samples are taken and applied one at a time, in order: counters only grow on a
        # connection, and one that went down could only be a new connection on the same port
        self.lock = threading.Lock()

    def sample(self):
        with self.lock:
            self.apply(self.read())

    def read(self):
        """{local port: {"pid", "sent", "received"}} of the connections that have TCP
        counters (not those in TIME-WAIT)."""
        text = subprocess.run(["ss", "-tinpH", "dport = :%d" % self.redis_port], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=10).stdout
        current, seen = None, {}
        for line in text.splitlines():
            if not line[:1].isspace():
                addresses = self.ADDRESSES.search(line)
                process = self.PROCESS.search(line)
                current = (int(addresses.group(2)), int(process.group(1)) if process else None) if addresses else None
            elif current is not None:
                sent = re.search(r"\bbytes_acked:(\d+)", line)
                received = re.search(r"\bbytes_received:(\d+)", line)
                seen[current[0]] = {"pid": current[1], "sent": int(sent.group(1)) if sent else 0,
                                    "received": int(received.group(1)) if received else 0}
                current = None
        return seen

    def apply(self, seen):
        self.samples += 1
        if not self.counting:
            # Before the window: what the connections have when it starts is their base
            self.connections = {port: dict(value, base_sent=value["sent"], base_received=value["received"],
                                           opened=False) for port, value in seen.items()}
            return
        for port, value in seen.items():
            known = self.connections.get(port)
            if known is not None and value["sent"] >= known["sent"] and value["received"] >= known["received"]:
                known.update(sent=value["sent"], received=value["received"], pid=known["pid"] or value["pid"])
                continue
            if known is not None:
                self.replaced.append(dict(known, port=port))
            # Opened during the window: all of its bytes belong to it
            self.connections[port] = dict(value, base_sent=0, base_received=0, opened=True)

    def records(self):
        """Every connection seen in the window, with its port."""
        return [dict(record, port=port) for port, record in self.connections.items()] + self.replaced

    def start_window(self):
        with self.lock:
            self.apply(self.read())
            self.counting = True

    def run(self):
        while not self.halt.wait(SS_INTERVAL):
            self.sample()

    def stop(self):
        self.halt.set()
        self.join(15)
        self.sample()


def replica_lines(info):
    """INFO replication of a primary -> the fields of each slaveN line."""
    found = []
    for key, value in sorted(info.items()):
        if re.match(r"slave\d+$", key):
            found.append(dict(part.split("=", 1) for part in value.split(",") if "=" in part))
    return found


def scripts():
    """SHA1 of each script -> its name, as Spring Data Redis calls it (EVALSHA)."""
    found = {}
    for name in sorted(os.listdir(SCRIPTS)):
        if name.endswith(".lua"):
            with open(os.path.join(SCRIPTS, name), encoding="utf-8") as f:
                found[hashlib.sha1(f.read().encode("utf-8")).hexdigest()] = name[:-4]
    return found


def scrape(port):
    """The service's Prometheus text -> {series with labels: value}."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/actuator/prometheus")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def series(metrics, name):
    """Sum of a series over its labels but le (and the buckets of a histogram, by le)."""
    total, buckets = 0.0, {}
    for key, value in metrics.items():
        base = key.split("{", 1)[0]
        if base != name:
            continue
        le = re.search(r'le="([^"]+)"', key)
        if le:
            bound = float("inf") if le.group(1) == "+Inf" else float(le.group(1))
            buckets[bound] = buckets.get(bound, 0.0) + value
        else:
            total += value
    return buckets if buckets else total


def gauge(metrics, name):
    """A gauge's value, None when the service reports none (NaN: JSON has no NaN)."""
    value = series(metrics, name)
    return None if isinstance(value, dict) or value != value else value


def counter_delta(before, after, name):
    return series(after, name) - series(before, name)


def stage_to_commit(calls):
    """Replicas mode, from MONITOR: for each commit script call of the leader (calls: its
    (Redis' time, command) in order), the time (ms) since its last append script call (the
    value's staging, then its WAIT), and since that WAIT's own line."""
    staged = waited = None
    found = {"append_to_commit_ms": [], "wait_to_commit_ms": []}
    for at, command in calls:
        if command == "append":
            staged, waited = at, None
        elif command == "wait" and staged is not None:
            waited = at
        elif command == "commit" and staged is not None:
            found["append_to_commit_ms"].append(round(1000.0 * (at - staged), 3))
            if waited is not None:
                found["wait_to_commit_ms"].append(round(1000.0 * (at - waited), 3))
            staged = waited = None
    return found


def histogram_delta(before, after, name="sequence_cluster_delay_seconds"):
    """The histogram of what was recorded between two scrapes: cumulative counts by bound (s)."""
    b0, b1 = series(before, name + "_bucket"), series(after, name + "_bucket")
    return {"buckets": sorted((le, b1[le] - b0.get(le, 0.0)) for le in b1),
            "count": series(after, name + "_count") - series(before, name + "_count"),
            "sum_s": series(after, name + "_sum") - series(before, name + "_sum")}


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(bench.CLOCK_TICKS)
    except (OSError, IndexError):
        return None


class ClusterBench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        runner_args = argparse.Namespace(mode="quick" if args.quick else "full", java17=args.java17, java25=None,
                                         jar=args.jar, plain_jar=None, go=None, fanout_client=args.fanout_client)
        self.runner = bench.Runner(runner_args)
        self.stamp = time.strftime("%Y%m%dT%H%M%S")
        self.runner.run_dir = os.path.join(OUT, "cluster-runs", self.stamp)
        os.makedirs(self.runner.run_dir, exist_ok=True)
        self.fanout_seconds = 5 if args.quick else 20
        self.redis_seconds = 10 if args.quick else 30
        self.scripts = scripts()
        self.modes = args.modes
        self.records, self.failures = [], []

    # -- processes ----------------------------------------------------------------

    def instance_argv(self, port, mode, name, redis_port):
        argv = [self.args.java17] + bench.FANOUT_FLAGS + [
            "-jar", self.args.jar, "--server.port=%d" % port, "--server.address=127.0.0.1",
            "--sequence.period=" + self.args.period]
        if mode in CLUSTER_MODES:
            argv += ["--sequence.cluster.enabled=true", "--spring.data.redis.url=redis://127.0.0.1:%d" % redis_port]
        if mode == "replicas":
            argv += ["--sequence.cluster.replicas=%d" % WAIT_REPLICAS]
        return argv

    def start_instance(self, mode, name, redis_port=None):
        for attempt in range(3):
            # A free port can be taken by another tenant's process before the service binds it
            port = bench.free_port()
            proc, started = self.runner.spawn_argv("%s-%s" % (mode, name),
                                                   self.instance_argv(port, mode, name, redis_port))
            try:
                ready = self.runner.wait_ready(proc, port, started)
                proc.port = port
                log("%s %s ready on port %d in %.1f s (PID %d)" % (mode, name, port, ready, proc.pid))
                return proc
            except bench.StartupFailed as ex:
                log("%s; trying another port" % ex)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(30)
        raise RuntimeError("%s %s did not start in 3 attempts" % (mode, name))

    def start_redis(self, primary=None, label="redis"):
        """redis-server on a free loopback port, in a directory of its own (the run's
        directory of its label); with primary, a replica of it."""
        for attempt in range(3):
            port = bench.free_port()
            argv = ["redis-server", REDIS_CONF, "--port", str(port), "--bind", "127.0.0.1", "--dir", ".",
                    "--daemonize", "no", "--logfile", ""]
            if self.args.redis_hz:
                argv += ["--hz", str(self.args.redis_hz)]
            if primary is not None:
                argv += ["--replicaof", "127.0.0.1", str(primary.port)]
            proc, started = self.runner.spawn_argv(label, argv)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    r = Redis(port, timeout=2)
                    r.call("PING")
                    r.close()
                    proc.port = port
                    log("%s ready on port %d (PID %d)" % (label, port, proc.pid))
                    return proc
                except (OSError, RuntimeError, ConnectionError):
                    time.sleep(0.05)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
        raise RuntimeError("redis-server did not start in 3 attempts")

    def wait_replication(self, primary, replicas, limit=60.0):
        """Until the primary's INFO replication shows every replica online (the first full
        synchronisation: with redis.conf's diskless sync, the primary waits
        repl-diskless-sync-delay, 5 s by default, for more replicas before it starts)."""
        started = time.monotonic()
        ports = {str(replica.port) for replica in replicas}
        info = Redis(primary.port)
        try:
            while True:
                found = info.info("replication")
                online = {fields.get("port") for fields in replica_lines(found) if fields.get("state") == "online"}
                if ports <= online:
                    waited = time.monotonic() - started
                    log("replicas online after %.1f s: %s" % (waited, ", ".join(
                        "%s=%s" % (k, v) for k, v in sorted(found.items()) if k.startswith("slave"))))
                    return {"seconds": round(waited, 2), "info": found}
                if time.monotonic() - started > limit or any(r.poll() is not None for r in replicas):
                    raise RuntimeError("replicas not online within %.0f s: %s" % (limit, found))
                time.sleep(0.1)
        finally:
            info.close()

    def replication(self, primary):
        info = Redis(primary.port)
        try:
            return info.info("replication")
        finally:
            info.close()

    def wait_for(self, what, condition, limit=30.0):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise RuntimeError("%s: not within %.0f s" % (what, limit))

    def leading(self, proc):
        return series(scrape(proc.port), "sequence_cluster_leader") == 1.0

    def stop(self, *procs):
        exits = {}
        for proc in procs:
            if proc is not None and proc.poll() is None:
                exits[proc.pid] = round(self.runner.terminate(proc)[0], 1)
        return exits

    # -- phases -------------------------------------------------------------------

    def throughput(self, proc, watched):
        """wrk on one instance; the CPU of every process of the layout over the measured run,
        and of the loaded instance's threads by name, to tell where a difference goes."""
        self.runner.wait_for_quiet("throughput")
        busy = self.runner.extra["busy_before"][-1]
        warm = self.runner.wrk(proc.port, self.runner.warmup, False)
        cpu0, procs0, threads0 = bench.machine_cpu(), {k: proc_cpu(v) for k, v in watched.items()}, \
            bench.thread_cpu(proc.pid)
        measured = self.runner.wrk(proc.port, self.runner.duration, True)
        cpu1, procs1, threads1 = bench.machine_cpu(), {k: proc_cpu(v) for k, v in watched.items()}, \
            bench.thread_cpu(proc.pid)
        window = max(1e-3, cpu1[2] - cpu0[2])
        cores = {k: round((procs1[k] - procs0[k]) / window, 3) for k in watched
                 if procs0[k] is not None and procs1[k] is not None}
        cores["machine"] = round((cpu1[0] - cpu0[0]) / window, 3)
        cores["wrk and others"] = round(cores["machine"] - sum(v for k, v in cores.items() if k != "machine"), 3)
        threads = {}
        for tid, (comm, spent) in threads1.items():
            # /proc's names, cut at 15 characters; the trailing number of a pool's thread dropped
            name = re.sub(r"[-#]?\d+$", "", comm)
            threads[name] = threads.get(name, 0.0) + (spent - threads0.get(tid, (comm, 0.0))[1]) / window
        return {"warmup": warm, "measured": measured, "busy_before": busy, "loadavg": bench.loadavg(),
                "cores": cores, "loaded_instance_threads": {k: round(v, 3) for k, v in
                                                            sorted(threads.items(), key=lambda kv: -kv[1]) if v >= 0.001}}

    def redis_cost(self, redis, leader, follower):
        """A window with no client: every Redis command and byte of each instance."""
        roles = {leader.pid: "leader", follower.pid: "follower"}
        info = Redis(redis.port)
        monitor = Monitor(redis.port)
        monitor.start()
        sampler = SocketSampler(redis.port)
        sampler.sample()
        sampler.start()
        own_ports = {info.local_port, monitor.redis.local_port}
        time.sleep(1.0)
        metrics0 = {proc.pid: scrape(proc.port) for proc in (leader, follower)}
        sampler.start_window()
        t0 = info.time()
        stats0, commands0 = info.info("stats"), command_stats(info.info("commandstats"))
        monitor_bytes0, own0 = monitor.redis.received, (info.sent, info.received)
        time.sleep(self.redis_seconds)
        monitor_bytes1, own1 = monitor.redis.received, (info.sent, info.received)
        stats1, commands1 = info.info("stats"), command_stats(info.info("commandstats"))
        t1 = info.time()
        sampler.stop()
        metrics1 = {proc.pid: scrape(proc.port) for proc in (leader, follower)}
        clients = info.call("CLIENT", "LIST")
        monitor.stop()
        info.close()

        port_owner = {record["port"]: record["pid"] for record in sampler.records() if record["pid"]}
        lines = [line for line in monitor.lines if t0 <= line[0] <= t1]
        calls = {role: {} for role in roles.values()}
        in_scripts = {role: {} for role in roles.values()}
        kinds = {}  # client port -> "reader" (XREAD) or "shared"
        unattributed = {}
        caller = None
        values = 0
        leader_calls = []
        for at, address, words in lines:
            command = words[0].lower() if words else "?"
            if address == "lua":
                if caller is not None:
                    table = in_scripts[caller[0]].setdefault(caller[1], {})
                    table[command] = table.get(command, 0) + 1
                    # A value reaches the stream from the append script, or from the commit
                    # script once replicas hold it (replicas mode)
                    if caller[1] in ("append", "commit") and command == "xadd":
                        values += 1
                continue
            port = int(address.rsplit(":", 1)[1])
            if port in own_ports:
                caller = None
                continue
            if command == "evalsha":
                command = self.scripts.get(words[1].lower(), "evalsha " + words[1][:8]) if len(words) > 1 else command
            elif command == "client" and len(words) > 1:
                # As INFO commandstats names it (replicas mode: CLIENT ID around each WAIT)
                command = "client|" + words[1].lower()
            elif command == "xread":
                kinds[port] = "reader"
            kinds.setdefault(port, "shared")
            role = roles.get(port_owner.get(port))
            if role is None:
                unattributed[command] = unattributed.get(command, 0) + 1
                caller = None
                continue
            calls[role][command] = calls[role].get(command, 0) + 1
            caller = (role, command)
            if role == "leader":
                leader_calls.append((at, command))

        bytes_by = {role: {"to_redis": 0, "from_redis": 0, "connections_opened": 0, "connections": 0,
                           "by_kind": {}} for role in roles.values()}
        connections = []
        for record in sampler.records():
            port = record["port"]
            role = roles.get(record["pid"] or port_owner.get(port))
            if role is None:
                continue
            sent, received = record["sent"] - record["base_sent"], record["received"] - record["base_received"]
            connections.append({"role": role, "port": port, "kind": kinds.get(port, "shared"),
                                "opened": record["opened"], "to_redis": sent, "from_redis": received,
                                "calls": sum(1 for _, address, _ in lines if address.endswith(":%d" % port))})
            target = bytes_by[role]
            target["to_redis"] += sent
            target["from_redis"] += received
            target["connections"] += 1
            target["connections_opened"] += 1 if record["opened"] else 0
            kind = target["by_kind"].setdefault(kinds.get(port, "shared"), {"to_redis": 0, "from_redis": 0})
            kind["to_redis"] += sent
            kind["from_redis"] += received

        # Redis' totals less the harness's own connections: what every instance took together
        monitor_bytes = monitor_bytes1 - monitor_bytes0
        own_sent, own_received = own1[0] - own0[0], own1[1] - own0[1]
        totals = {
            "net_input_bytes": int(stats1["total_net_input_bytes"]) - int(stats0["total_net_input_bytes"]) - own_sent,
            "net_output_bytes": (int(stats1["total_net_output_bytes"]) - int(stats0["total_net_output_bytes"])
                                 - own_received - monitor_bytes),
            "connections_received": (int(stats1["total_connections_received"])
                                     - int(stats0["total_connections_received"])),
            "commandstats": delta(commands1, commands0),
        }
        instances = {}
        for proc in (leader, follower):
            role = roles[proc.pid]
            instances[role] = {
                "calls": calls[role], "in_scripts": in_scripts[role], "bytes": bytes_by[role],
                "redis_errors": (series(metrics1[proc.pid], "sequence_cluster_redis_errors_total")
                                 - series(metrics0[proc.pid], "sequence_cluster_redis_errors_total")),
                "values_received": (series(metrics1[proc.pid], "sequence_values_total")
                                    - series(metrics0[proc.pid], "sequence_values_total")),
                "produced": (series(metrics1[proc.pid], "sequence_cluster_produced_total")
                             - series(metrics0[proc.pid], "sequence_cluster_produced_total")),
                "delay_idle": histogram_delta(metrics0[proc.pid], metrics1[proc.pid]),
                "commit_stalls": counter_delta(metrics0[proc.pid], metrics1[proc.pid],
                                               "sequence_cluster_commit_stalls_total"),
            }
        result = {"seconds": t1 - t0, "values": values, "instances": instances, "unattributed_calls": unattributed,
                  "totals": totals, "ss_samples": sampler.samples, "client_list_end": clients.splitlines(),
                  "connections": connections}
        if any(command == "commit" for _, command in leader_calls):
            result["stage_to_commit"] = stage_to_commit(leader_calls)
        log("Redis window %.1f s: %d values; leader %s, %d B to and %d B from Redis; follower %s, %d B to and "
            "%d B from Redis; timeouts %d / %d; connections opened %d (INFO %d)"
            % (result["seconds"], values, calls["leader"], bytes_by["leader"]["to_redis"],
               bytes_by["leader"]["from_redis"], calls["follower"], bytes_by["follower"]["to_redis"],
               bytes_by["follower"]["from_redis"], instances["leader"]["redis_errors"],
               instances["follower"]["redis_errors"],
               bytes_by["leader"]["connections_opened"] + bytes_by["follower"]["connections_opened"],
               totals["connections_received"]))
        return result

    def fanout(self, mode, first, second, redis, replicas=()):
        """1,000 streams (or --streams) on each instance (or on those --streams-on names), one
        client, one window."""
        self.runner.wait_for_quiet("fan-out %s" % mode)
        busy = self.runner.extra["busy_before"][-1]
        targets = [proc for name, proc in (("1", first), ("2", second)) if name in self.args.streams_on.split(",")]
        argv = [self.args.fanout_client, "fanout", "-ports", ",".join(str(proc.port) for proc in targets),
                "-streams", str(self.args.streams), "-seconds", str(self.fanout_seconds),
                "-slice", str(bench.FANOUT_SLICE_SECONDS), "-open-timeout", "240"]
        client, expect = bench.stream_client(argv)
        watched = {"instance-1": first.pid, "instance-2": second.pid}
        if redis is not None:
            watched["redis"] = redis.pid
        for number, replica in enumerate(replicas, 1):
            watched["redis-replica-%d" % number] = replica.pid
        try:
            opened = int(expect("OPEN", 300))
            metrics0 = {proc.pid: scrape(proc.port) for proc in (first, second)}
            cpu0, procs0 = bench.machine_cpu(), {k: proc_cpu(v) for k, v in watched.items()}
            expect("WINDOW", self.fanout_seconds + 60)
            cpu1, procs1 = bench.machine_cpu(), {k: proc_cpu(v) for k, v in watched.items()}
            metrics1 = {proc.pid: scrape(proc.port) for proc in (first, second)}
            replication = self.replication(redis) if replicas else None
            exits = self.stop(second, first)
            result = json.loads(expect("RESULT", 120))
            client.wait(30)
        finally:
            if client.poll() is None:
                os.kill(client.pid, signal.SIGKILL)
                client.wait(10)
        window = max(1e-3, cpu1[2] - cpu0[2])
        cores = {k: round((procs1[k] - procs0[k]) / window, 3) for k in watched
                 if procs0[k] is not None and procs1[k] is not None}
        cores["client"] = result.get("client_cpu_share")
        cores["machine"] = round((cpu1[0] - cpu0[0]) / window, 3)
        cores["others"] = round(cores["machine"] - sum(v or 0.0 for k, v in cores.items() if k != "machine"), 3)
        by_port = result.pop("by_port", {})
        record = dict(result)
        record.update({
            "opened_with_first_event": opened, "busy_before": busy, "cores": cores, "exit_ms": exits,
            "instance-1": by_port.get(str(first.port)), "instance-2": by_port.get(str(second.port)),
            "client_argv": " ".join(shlex.quote(x) for x in argv).replace(ROOT + "/", ""),
        })
        if mode in CLUSTER_MODES:
            record["delay"] = {name: histogram_delta(metrics0[proc.pid], metrics1[proc.pid])
                               for name, proc in (("instance-1", first), ("instance-2", second))}
            record["leader_at_end"] = {name: series(metrics1[proc.pid], "sequence_cluster_leader")
                                       for name, proc in (("instance-1", first), ("instance-2", second))}
            record["redis_errors"] = {name: series(metrics1[proc.pid], "sequence_cluster_redis_errors_total")
                                      - series(metrics0[proc.pid], "sequence_cluster_redis_errors_total")
                                      for name, proc in (("instance-1", first), ("instance-2", second))}
            record["commit_stalls"] = {name: counter_delta(metrics0[proc.pid], metrics1[proc.pid],
                                                           "sequence_cluster_commit_stalls_total")
                                       for name, proc in (("instance-1", first), ("instance-2", second))}
            record["commit_stalls_since_start"] = {
                name: series(metrics1[proc.pid], "sequence_cluster_commit_stalls_total")
                for name, proc in (("instance-1", first), ("instance-2", second))}
            record["replicas_acknowledged_at_end"] = {
                name: gauge(metrics1[proc.pid], "sequence_cluster_replicas_acknowledged")
                for name, proc in (("instance-1", first), ("instance-2", second))}
            record["redis_failovers"] = {name: series(metrics1[proc.pid], "sequence_cluster_redis_failovers_total")
                                         for name, proc in (("instance-1", first), ("instance-2", second))}
        if replication is not None:
            record["replication_end"] = replication
        log("fan-out %s: %d open; lag to the socket p50 %s p99 %s ms; to the client's read p50 %s p99 %s max %s ms "
            "(instance 1: p50 %s p99 %s; instance 2: p50 %s p99 %s); %d id violations, %d gaps; cores %s"
            % (mode, opened, result.get("arrival_lag_p50_ms"), result.get("arrival_lag_p99_ms"),
               result["lag_p50_ms"], result["lag_p99_ms"], result["lag_max_ms"],
               (record["instance-1"] or {}).get("lag_p50_ms"), (record["instance-1"] or {}).get("lag_p99_ms"),
               (record["instance-2"] or {}).get("lag_p50_ms"), (record["instance-2"] or {}).get("lag_p99_ms"),
               result.get("id_violations", -1), result.get("gaps", -1), json.dumps(cores)))
        if mode in CLUSTER_MODES:
            log("fan-out %s: commit stalls in the window %s, since the start %s; replicas acknowledged at the end "
                "%s" % (mode, json.dumps(record["commit_stalls"]), json.dumps(record["commit_stalls_since_start"]),
                        json.dumps(record["replicas_acknowledged_at_end"])))
        return record

    def mode(self, mode, round_no):
        """One mode's layout: start it, measure it, end it."""
        redis = first = second = None
        replicas = []
        record = {"round": round_no, "mode": mode}
        started = time.monotonic()
        try:
            if mode in CLUSTER_MODES:
                redis = self.start_redis()
            if mode == "replicas":
                for number in range(1, REPLICAS + 1):
                    replicas.append(self.start_redis(redis, "redis-replica-%d" % number))
                record["replication_start"] = self.wait_replication(redis, replicas)
            first = self.start_instance(mode, "1", redis and redis.port)
            if mode in CLUSTER_MODES:
                self.wait_for("instance 1 leads", lambda: self.leading(first))
            second = self.start_instance(mode, "2", redis and redis.port)
            if mode in CLUSTER_MODES and (self.leading(second) or not self.leading(first)):
                raise RuntimeError("instance 2 leads, or instance 1 does not")
            record["argv"] = {"instance-1": " ".join(shlex.quote(x) for x in first.args),
                              "instance-2": " ".join(shlex.quote(x) for x in second.args)}
            if redis is not None:
                record["argv"]["redis"] = " ".join(shlex.quote(x) for x in redis.args)
            for number, replica in enumerate(replicas, 1):
                record["argv"]["redis-replica-%d" % number] = " ".join(shlex.quote(x) for x in replica.args)
            watched = {"instance-1": first.pid, "instance-2": second.pid}
            if redis is not None:
                watched["redis"] = redis.pid
            if mode != "replicas":
                # Replicas mode leaves it out: /sequence/last is served from memory, off the
                # write path that the replicas lengthen
                record["throughput"] = self.throughput(second, watched)
                measured = record["throughput"]["measured"]
                log("%s round %d: %.0f req/s on instance 2%s, p99 %.2f ms (non-2xx %d, %s); cores %s; instance "
                    "2's threads %s" % (mode, round_no, measured["rps"],
                                        " (the follower)" if mode == "cluster" else "",
                                        measured["p99_ms"] or -1, measured["non_2xx"],
                                        measured["socket_errors"] or "no socket errors",
                                        json.dumps(record["throughput"]["cores"]),
                                        json.dumps(dict(list(record["throughput"]["loaded_instance_threads"]
                                                             .items())[:8]))))
            if mode in CLUSTER_MODES:
                record["redis"] = self.redis_cost(redis, first, second)
            record["fanout"] = self.fanout(mode, first, second, redis, replicas)
            self.stop(second, first, *replicas, redis)
            record["seconds"] = round(time.monotonic() - started, 1)
            log("%s round %d took %.0f s" % (mode, round_no, record["seconds"]))
            return record
        finally:
            self.stop(second, first, *replicas, redis)

    def run(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        load_start = open("/proc/loadavg").read().split()[:3]
        modes = self.modes
        for r in range(self.args.rounds):
            log("round %d of %d (load average %.2f)" % (r + 1, self.args.rounds, bench.loadavg()))
            # Interleaved: every mode once per round, in an order that rotates from round to round
            # (with two modes, the other one first every other round)
            shift = r % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                try:
                    self.records.append(self.mode(mode, r + 1))
                except Exception as ex:  # recorded; the other runs go on
                    log("%s round %d failed: %r" % (mode, r + 1, ex))
                    self.failures.append({"mode": mode, "round": r + 1, "error": repr(ex)})
                    bench.cleanup()
                self.save(started, load_start, r + 1)

    def save(self, started, load_start, rounds_done):
        meta = bench.machine_facts(argparse.Namespace(java17=self.args.java17, java25=self.args.java17))
        meta.pop("java25", None)
        meta.update({
            "mode": "quick" if self.quick else "full", "official": self.official(), "rounds": rounds_done,
            "rounds_planned": self.args.rounds, "period": self.args.period, "streams": self.args.streams,
            "streams_on": self.args.streams_on, "modes": self.modes, "replicas": REPLICAS,
            "wait_replicas": WAIT_REPLICAS,
            "redis_hz": self.args.redis_hz, "warmup_s": self.runner.warmup, "duration_s": self.runner.duration,
            "fanout_seconds": self.fanout_seconds, "redis_seconds": self.redis_seconds,
            "fanout_flags": " ".join(bench.FANOUT_FLAGS), "redis": bench.first_line(["redis-server", "--version"])[:1],
            "redis_conf": os.path.relpath(REDIS_CONF, ROOT), "scripts": self.scripts,
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "minutes": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60.0, 1),
            "loadavg_start": load_start, "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "command": "bench/cluster.sh" + "".join(" " + shlex.quote(a) for a in sys.argv[1:]),
            "jar": os.path.relpath(self.args.jar, ROOT),
            "quiet_busy": self.runner.quiet_busy, "quiet_wait": self.runner.quiet_wait,
        })
        data = {"meta": meta, "records": self.records, "failures": self.failures}
        paths = [RESULTS, os.path.join(OUT, "cluster-results-%s.json" % self.stamp)]
        if self.official():
            paths.append(KEPT_RESULTS)
        for path in paths:
            with open(path, "w") as f:
                json.dump(data, f, indent=1)

    def official(self):
        """Only a full run with the defaults stands for the docs; the others stay in bench/out."""
        return (not self.quick and not self.args.redis_hz and self.args.period == DEFAULT_PERIOD
                and self.args.streams == DEFAULT_STREAMS and self.args.streams_on == DEFAULT_STREAMS_ON
                and self.modes == list(MODES))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "4")))
    parser.add_argument("--quick", action="store_true", help="one short round, to check the harness")
    parser.add_argument("--period", default=DEFAULT_PERIOD, help="sequence.period of every instance")
    parser.add_argument("--streams", type=int, default=DEFAULT_STREAMS, help="streams on each instance")
    parser.add_argument("--streams-on", default=DEFAULT_STREAMS_ON,
                        help="the instances that get streams: 1,2 (both, the default), 1 or 2, for an experiment")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="the modes to run, in the first round's order: local, cluster and replicas (cluster "
                             "mode with sequence.cluster.replicas=%d on a primary with %d replicas), all by default; "
                             "a run without one of them leaves the docs alone" % (WAIT_REPLICAS, REPLICAS))
    parser.add_argument("--redis-hz", type=int, default=None,
                        help="Redis' hz (how often its timers run; redis.conf's default: 10), for an experiment")
    parser.add_argument("--report", action="store_true",
                        help="rewrite docs/benchmarks.md from bench/cluster-results.json without measuring")
    parser.add_argument("--render", metavar="JSON", help="print the section of an earlier run's raw results")
    parser.add_argument("--jar", default=os.path.join(ROOT, "target", "graceful-sequence.jar"))
    parser.add_argument("--java17", default=os.environ.get("JAVA17", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"))
    parser.add_argument("--fanout-client", default=bench.GO_FANOUT_CLIENT)
    args = parser.parse_args()
    if args.render:
        with open(args.render) as f:
            print("\n".join(report.cluster_lines(json.load(f))))
        return
    if args.report:
        report.write(bench.RESULTS if bench.is_full_run(bench.RESULTS) else bench.KEPT_RESULTS, bench.DOC, bench.CHART)
        return
    if args.quick:
        args.rounds = 1
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in args.modes if m not in MODES]
    if not args.modes or unknown or len(set(args.modes)) != len(args.modes):
        parser.error("--modes: one or more of %s, each once (not %s)" % (", ".join(MODES), ",".join(args.modes)))
    args.jar = os.path.abspath(args.jar)
    atexit.register(bench.cleanup)
    signal.signal(signal.SIGTERM, bench.on_signal)
    signal.signal(signal.SIGINT, bench.on_signal)
    runner = ClusterBench(args)
    runner.run()
    log("raw results in %s" % RESULTS)
    with open(RESULTS) as f:
        data = json.load(f)
    text = "\n".join(report.cluster_lines(data)) + "\n"
    if runner.official():
        report.write(bench.RESULTS if bench.is_full_run(bench.RESULTS) else bench.KEPT_RESULTS, bench.DOC, bench.CHART)
    else:
        summary = os.path.join(OUT, "cluster-%s.md" % runner.stamp)
        with open(summary, "w") as f:
            f.write(text)
        log("not a full run with the defaults: docs/benchmarks.md stays as it is; the section is in %s" % summary)
    print(text)


if __name__ == "__main__":
    main()
