#!/usr/bin/env python3
"""Rolling restart of graceful-sequence behind HAProxy or nginx, under load, with real clients.

Started by bench/rolling-restart.sh, which installs what is missing first. Starts instances of
target/graceful-sequence.jar and HAProxy in front of them (a copy of deploy/haproxy/haproxy.cfg
with this run's ports), or with --proxy nginx, nginx (a copy of deploy/nginx/nginx.conf with
this run's ports), then keeps these clients busy through the proxy while it restarts the
instances one after the other:

- wrk: keep-alive load on GET /sequence/last (statuses counted by a small Lua script);
- long-polls: a few clients that wait on GET /sequence/next?timeout=60s, again and again;
- an SSE client that follows /sequence/stream as a browser's EventSource does (the load tool's
  record, bench/load/): it honours retry:, sends Last-Event-ID, reconnects after the stream
  ends, and gives up for good on an answer that is not a 200 event stream;
- headless Chromium, driven through chromedriver's W3C WebDriver HTTP API, on the live page
  at / (or, where / does not serve it yet, on a page of the same origin with an EventSource
  injected), recording what its EventSource saw.

Local mode (the default): two instances, each with a sequence of its own, behind the first two
server lines of the proxy's file (the copy leaves the others out). Cluster mode (--cluster):
a redis-server of the run's own (a free loopback port, its own directory, the append-only file
on, no RDB snapshots) and three instances in cluster mode on it, behind the file's three server
lines, each in a working directory of its own and so with a state file of its own; the
cluster's history (the Redis stream of every value) is read at the end and checked: the gaps
between values, the indexes and ids, every stream client's values against it, and each
process's state file against the last value it logged as received.

Each restart: SIGTERM, wait for the exit (status 143, "I'm leaving, bye!" last), start a new
process on the same port in the same working directory (so it restores the state file),
wait for /readyz 200 and for HAProxy to see it UP (nginx, which has no health checks: for
the first GET /sequence/last that nginx sends it), then the next. To tell which process a
client's value came from (local mode), the script also follows every process's stream
directly (a "tap", not through the proxy) and matches values by emittedAt, index and value;
in cluster mode every process serves the same values, and the taps are checked as stream
clients against the cluster's history.

Every process this script starts is ended by its PID when it ends, however it ends (what is
still alive gets SIGKILL, chromedriver's browser processes included); every load is bounded
in time; everything listens on 127.0.0.1 on free ports. Standard library only; the stream
clients are the load tool (bench/out/load, which bench/build-load.sh builds).
"""

import argparse
import atexit
import csv
import datetime
import http.client
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONFIG = os.path.join(ROOT, "deploy", "haproxy", "haproxy.cfg")
NGINX_CONFIG = os.path.join(ROOT, "deploy", "nginx", "nginx.conf")
DOC = os.path.join(ROOT, "docs", "rolling-restart.md")
OUT = os.path.join(HERE, "out", "rolling-restart")
# The results of the run behind each part of the doc, committed with it, so that --report writes the
# doc again from a fresh clone: <key>.json, the key "haproxy" for the local run behind HAProxy
KEPT_RESULTS = os.path.join(HERE, "rolling-restart-results")

# The nginx run's part of the doc, kept as it is when the HAProxy run rewrites the rest
NGINX_BEGIN = "<!-- nginx run: written by bench/rolling_restart.py --proxy nginx -->"
NGINX_END = "<!-- end of the nginx run -->"
# The parts of the doc that a run writes apart from the rest, in the order the doc keeps them:
# (key, first line, last line). The local run behind HAProxy writes everything else
PARTS = [
    ("nginx", NGINX_BEGIN, NGINX_END),
    ("cluster-haproxy", "<!-- cluster mode behind HAProxy: written by bench/rolling_restart.py --cluster -->",
     "<!-- end of the cluster-mode run behind HAProxy -->"),
    ("cluster-nginx", "<!-- cluster mode behind nginx: written by bench/rolling_restart.py --cluster --proxy nginx -->",
     "<!-- end of the cluster-mode run behind nginx -->"),
]

# What cluster mode keeps in Redis (RedisSequenceStore): the history, one entry per value, its id
# the value's event id, with the fields value, index and lease
HISTORY_KEY = "{graceful-sequence:v1}:values"
# The longest gap between two values of the cluster's sequence, beyond its period (section 9 of
# the contract: at a handover)
HANDOVER_SLACK_MS = 250
# The most values the history keeps (sequence.stream.replay's maximum): the whole run stays in Redis
REPLAY_MAX = 100000

SIGTERM_STATUS = 143
BYE = "I'm leaving, bye!"

# Counts responses by status over all wrk threads, wrk's own summary counts only >= 400; and the
# answers that carried a value restored from a state file rather than a live one
WRK_SCRIPT = """\
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   restored = 0
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if body and string.find(body, '"source":%s*"restored"') then
      restored = restored + 1
   end
end

function done(summary, latency, requests)
   local total = {}
   local restored_total = 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + n
      end
      restored_total = restored_total + thread:get("restored")
   end
   for status, n in pairs(total) do
      io.write(string.format("status %d %d\\n", status, n))
   end
   io.write(string.format("restored %d\\n", restored_total))
end
"""

# Installed in every document before its own scripts (CDP Page.addScriptToEvaluateOnNewDocument):
# records what every EventSource of the page sees, with the full data of each event, without
# changing what the page does (a subclass that only adds listeners).
OBSERVER_SCRIPT = """\
(() => {
  const Native = window.EventSource;
  const observed = window.rollingRestartObserver = { sources: [] };
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      const record = { url: String(url), events: [], states: [] };
      observed.sources.push(record);
      const state = () => {
        if (record.states[record.states.length - 1] !== this.readyState) {
          record.states.push(this.readyState);
        }
      };
      state();
      this.addEventListener('open', () => { state(); record.events.push({ type: 'open', t: Date.now() }); });
      this.addEventListener('error', () => {
        state();
        record.events.push({ type: 'error', t: Date.now(), readyState: this.readyState });
      });
      for (const type of ['value', 'shutdown', 'busy', 'message']) {
        this.addEventListener(type, (event) => {
          state();
          record.events.push({ type, t: Date.now(), id: event.lastEventId, data: event.data });
        });
      }
      setInterval(state, 100);
    }
  };
})();
"""

# Where / does not serve the live page yet: the same record, from an EventSource of our own on
# a page of HAProxy's origin (same origin, so the stream may be read)
FALLBACK_PAGE_SCRIPT = """\
const page = window.sequencePage = { values: [], events: [], states: [], errors: 0, closed: false, fallback: true };
const source = new EventSource('/sequence/stream');
const watch = () => {
  if (page.states[page.states.length - 1] !== source.readyState) {
    page.states.push(source.readyState);
    page.closed = page.closed || source.readyState === EventSource.CLOSED;
  }
};
watch();
source.addEventListener('value', (event) => {
  const data = JSON.parse(event.data);
  page.values.push({ value: data.value, index: data.index, id: event.lastEventId, source: data.source });
  page.events.push('value');
  watch();
});
for (const name of ['shutdown', 'busy']) {
  source.addEventListener(name, () => { page.events.push(name); watch(); });
}
source.addEventListener('error', () => { page.errors++; watch(); });
setInterval(watch, 100);
return true;
"""

children = []  # every Popen this script started
extra_pids = []  # processes started by our children that we end too (chromedriver's browser)


def log(message):
    sys.stderr.write("[rolling %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def descendants(pid):
    """PIDs of every process below pid, from /proc (the browser processes of chromedriver)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def kill_alive(pids):
    """SIGKILL, by PID, those of pids that are still alive."""
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def cleanup():
    """Ends, by PID, everything this script started that is still alive."""
    for proc in children:
        if proc.poll() is None:
            extra_pids.extend(descendants(proc.pid))
            try:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
    kill_alive(extra_pids)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type") or ""
    finally:
        conn.close()


def spawn(argv, cwd, log_path, env=None):
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env)
    children.append(proc)
    return proc


def wait_exit(proc, limit):
    """Blocking wait for the PID; SIGKILL and an error after limit seconds."""
    killed = []

    def kill():
        killed.append(True)
        os.kill(proc.pid, signal.SIGKILL)

    watchdog = threading.Timer(limit, kill)
    watchdog.daemon = True
    watchdog.start()
    proc.wait()
    watchdog.cancel()
    if killed:
        raise RuntimeError("process %d did not exit within %s s" % (proc.pid, limit))


# -- the service ---------------------------------------------------------------------------


class Instance:
    """One port and working directory; a new process on them at every restart."""

    def __init__(self, name, port, directory, args, extra=()):
        self.name = name
        self.port = port
        self.directory = directory
        self.args = args
        self.extra = list(extra)
        self.generation = 0
        self.proc = None
        self.label = None
        os.makedirs(directory, exist_ok=True)

    def jvm_log(self, generation=None):
        return os.path.join(self.directory, "jvm-%d.log" % (generation or self.generation))

    def argv(self):
        a = self.args
        # Cluster mode: every safepoint (a GC pause is one) with its time, to tell a pause of a
        # leader's JVM from a leader that did not get a CPU
        jvm_log = ["-Xlog:safepoint,gc:file=%s:time,level,tags" % self.jvm_log()] if a.cluster else []
        return [a.java] + a.jvm_args.split() + jvm_log + [
            "-jar", a.jar, "--server.address=127.0.0.1", "--server.port=%d" % self.port,
            "--shutdown.drain-delay=%s" % a.drain_delay, "--sequence.period=%s" % a.period] + self.extra

    def start(self):
        self.generation += 1
        self.label = "%s%d" % (self.name, self.generation)
        self.log_path = os.path.join(self.directory, "process-%d.log" % self.generation)
        self.started = time.monotonic()
        self.proc = spawn(self.argv(), self.directory, self.log_path)
        return self.proc

    def wait_ready(self, limit=180.0):
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s (pid %d) exited with %s before it was ready; see %s"
                                   % (self.label, self.proc.pid, self.proc.returncode, self.log_path))
            try:
                if http_status(self.port, "/readyz", timeout=1.0)[0] == 200:
                    return time.monotonic() - self.started
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() - self.started > limit:
                raise RuntimeError("%s not ready within %s s; see %s" % (self.label, limit, self.log_path))
            time.sleep(0.05)

    def last_line(self):
        with open(self.log_path, errors="replace") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        return lines[-1] if lines else ""

    def state_file(self):
        """The state file as the process that has just exited left it: its line, and its modification
        time in ms (the service sets it to the value's emittedAt, which is the value's id)."""
        path = os.path.join(self.directory, STATE_FILE)
        try:
            with open(path, errors="replace") as f:
                text = f.read()
            return {"path": os.path.relpath(path, ROOT), "text": text,
                    "value": (lambda m: int(m.group(1)) if m else None)(re.fullmatch(STATE_LINE, text)),
                    "mtime_ms": os.stat(path).st_mtime_ns // 1000000}
        except OSError:
            return {"path": os.path.relpath(path, ROOT), "text": None, "value": None, "mtime_ms": None}


# The state file in each instance's working directory (the default sequence.state-file) and its one line
STATE_FILE = "last-num-from-seq.txt"
STATE_LINE = r"Last number from random sequence: (\d+)\n"
# Spring Boot's console lines: time, level, pid, ---, [application], [thread], logger, ": ", message
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:Z|[+-]\d\d:\d\d))\s+(\w+)\s.*?\s:\s(.*)$")


def process_log(path):
    """What a process's log says about its part in the cluster: every value it received, the leads it
    took and handed over, its shutdown steps, and its warnings and errors."""
    found = {"received": [], "leads": [], "handover": None, "steps": [], "warnings": []}
    try:
        with open(path, errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
    except OSError:
        return found
    for line in lines:
        match = LOG_LINE.match(line)
        if not match:
            continue
        at, level, message = instant(match.group(1)), match.group(2), match.group(3)
        received = re.fullmatch(r"Received: (\d+)", message)
        if received:
            found["received"].append(int(received.group(1)))
            found.setdefault("first_received_at", at)
            found["last_received_at"] = at
        elif message.startswith("Took the lead"):
            position = re.search(r"at position (\d+)", message)
            found["leads"].append({"at": at, "position": int(position.group(1)) if position else None,
                                   "message": message})
        elif (message.startswith("Handed the lead") or message.startswith("Nothing to hand over")
              or message.startswith("Skipped the handover")):
            found["handover"] = {"at": at, "message": message}
        elif message.startswith("Shutdown step"):
            found["steps"].append({"at": at, "message": message})
        if level in ("WARN", "ERROR"):
            found["warnings"].append({"at": at, "level": level, "message": message})
    return found


class Redis:
    """The run's own redis-server: a free loopback port, its own directory, the append-only file on
    and no RDB snapshots, as deploy/redis/redis.conf keeps the cluster's data."""

    def __init__(self, args, directory):
        self.args = args
        self.directory = directory
        self.port = free_port()
        self.log_path = os.path.join(directory, "redis.log")
        self.proc = None
        os.makedirs(directory, exist_ok=True)

    def argv(self):
        return [self.args.redis_server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
                "--appendonly", "yes", "--save", "", "--daemonize", "no"]

    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def cli(self, *words, timeout=30):
        return subprocess.run([self.args.redis_cli, "-h", "127.0.0.1", "-p", str(self.port)] + list(words),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout).stdout

    def start(self):
        self.proc = spawn(self.argv(), self.directory, self.log_path)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.cli("PING", timeout=5).strip() == "PONG":
                    return
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not answer on %d; see %s" % (self.port, self.log_path))
            time.sleep(0.05)

    def history(self):
        """Every entry of the cluster's history, in Redis' order: id (the value's event id), value, index, lease."""
        entries = []
        for ident, fields in json.loads(self.cli("--json", "XRANGE", HISTORY_KEY, "-", "+", timeout=60) or "[]"):
            record = dict(zip(fields[0::2], fields[1::2]))
            entries.append({"id": int(ident.split("-")[0]), "entry": ident, "value": int(record["value"]),
                            "index": int(record["index"]), "lease": record.get("lease")})
        return entries

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            wait_exit(self.proc, 30)


# -- HAProxy -------------------------------------------------------------------------------


def render_config(text, front_port, stats_port, server_ports):
    """deploy/haproxy/haproxy.cfg with this run's ports, every other line as it is; the server lines
    past the run's instances (local mode runs two of the file's three) are left out."""
    out, section, servers = [], None, 0
    for line in text.splitlines():
        words = line.split()
        if line[:1].strip() and words:
            section = " ".join(words[:2])
        if words and words[0] == "bind" and section == "frontend graceful-sequence":
            line = re.sub(r"bind\s+\S+", "bind 127.0.0.1:%d" % front_port, line)
        elif words and words[0] == "bind" and section == "frontend stats":
            line = re.sub(r"bind\s+\S+", "bind 127.0.0.1:%d" % stats_port, line)
        elif words and words[0] == "server" and section == "backend graceful-sequence":
            servers += 1
            if servers > len(server_ports):
                continue
            line = re.sub(r"^(\s*server\s+\S+\s+)\S+", r"\g<1>127.0.0.1:%d" % server_ports[servers - 1], line)
        out.append(line)
    if servers < len(server_ports):
        raise RuntimeError("%s has %d server lines in backend graceful-sequence, fewer than the %d instances"
                           % (CONFIG, servers, len(server_ports)))
    rendered = "\n".join(out) + "\n"
    for port in [front_port, stats_port]:
        if ":%d\n" % port not in rendered:
            raise RuntimeError("%s: no bind line for port %d (frontend graceful-sequence and frontend stats)"
                               % (CONFIG, port))
    return rendered


def server_names(text):
    names, section = [], None
    for line in text.splitlines():
        words = line.split()
        if line[:1].strip() and words:
            section = " ".join(words[:2])
        if words and words[0] == "server" and section == "backend graceful-sequence":
            names.append(words[1])
    return names


# Every client of this bench comes from 127.0.0.1: the proxies' per-address bounds, sized for real
# users, would turn the load away, so the rendered copies carry this one instead (nginx's
# limit_conn values; HAProxy's presetenv variables, set in its environment)
PER_ADDRESS_LIMIT = 10000
HAPROXY_PER_ADDRESS_VARIABLES = ["GRACEFUL_SEQUENCE_CONNECTIONS_PER_SOURCE", "GRACEFUL_SEQUENCE_STREAMS_PER_SOURCE"]


def haproxy_environment(text):
    """The environment for HAProxy: each per-address variable the file presets, at the bench's limit."""
    for name in HAPROXY_PER_ADDRESS_VARIABLES:
        if not re.search(r"(?m)^\s*presetenv\s+%s\s" % name, text):
            raise RuntimeError("%s does not preset %s" % (CONFIG, name))
    return dict(os.environ, **{name: str(PER_ADDRESS_LIMIT) for name in HAPROXY_PER_ADDRESS_VARIABLES})


def render_nginx_config(text, front_port, server_ports):
    """deploy/nginx/nginx.conf with this run's ports and PER_ADDRESS_LIMIT, every other line as it is."""
    text, limits = re.subn(r"(?m)^(\s*limit_conn\s+\S+\s+)\d+;", r"\g<1>%d;" % PER_ADDRESS_LIMIT, text)
    if limits == 0:
        raise RuntimeError("%s has no limit_conn line" % NGINX_CONFIG)
    text, listens = re.subn(r"(?m)^(\s*listen\s+)[^;\s]+", r"\g<1>127.0.0.1:%d" % front_port, text)
    if listens != 1:
        raise RuntimeError("%s has %d listen lines, expected 1" % (NGINX_CONFIG, listens))
    # The server lines past the run's instances (local mode runs two of the file's three) are left out
    ports = iter(server_ports)
    text, servers = re.subn(r"(?m)^(\s*server\s+)127\.0\.0\.1:\d+[^\n]*\n",
                            lambda m: next((re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % port, m.group(0), count=1)
                                            for port in ports), ""), text)
    if servers < len(server_ports):
        raise RuntimeError("%s has %d upstream server lines, fewer than the %d instances"
                           % (NGINX_CONFIG, servers, len(server_ports)))
    return text


def nginx_servers(text):
    """Names for the upstream servers of deploy/nginx/nginx.conf, a, b, ... in their order."""
    count = len(re.findall(r"(?m)^\s*server\s+127\.0\.0\.1:\d+", text))
    return [chr(ord("a") + n) for n in range(count)]


def nginx_fail_timeout(text):
    """The longest fail_timeout of the upstream servers (nginx's default: 10 s)."""
    found = [seconds(m) for m in re.findall(r"fail_timeout=(\d+(?:ms|s))", text)]
    return max(found) if found else 10.0


class LogTail(threading.Thread):
    """Reads what a process appends to its log, with the time each line was read."""

    def __init__(self, path):
        super().__init__(daemon=True, name="log-tail")
        self.path = path
        self.lines = []  # (monotonic, line)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        position, partial = 0, ""
        while True:
            stopping = self.stop.is_set()
            try:
                with open(self.path, errors="replace") as f:
                    f.seek(position)
                    chunk = f.read()
                    position = f.tell()
            except OSError:
                chunk = ""
            if chunk:
                now = time.monotonic()
                parts = (partial + chunk).split("\n")
                partial = parts.pop()
                with self.lock:
                    self.lines.extend((now, line) for line in parts if line.strip())
            if stopping:
                return
            self.stop.wait(0.1)

    def since(self, after, before=None):
        with self.lock:
            return [(t, line) for t, line in self.lines if t >= after and (before is None or t < before)]


class CpuSampler(threading.Thread):
    """The machine's CPUs every 250 ms: how busy (/proc/stat), how much of that was this run's own
    processes (this script and everything below it) and so how much other tenants took, how long
    runnable threads waited for a CPU (/proc/pressure/cpu, "some"), and how many were runnable, to
    tell a late value on a saturated machine from a late one on an idle machine."""

    def __init__(self):
        super().__init__(daemon=True, name="cpu")
        self.samples = []  # (wall time, busy jiffies, total jiffies, {pid: jiffies}, stall us, runnable)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    @staticmethod
    def read():
        busy = total = stall = runnable = 0
        with open("/proc/stat") as f:
            for line in f:
                words = line.split()
                if words and words[0] == "cpu":
                    numbers = [int(w) for w in words[1:]]
                    # user nice system idle iowait irq softirq steal; guests are counted in user
                    total = sum(numbers[:8])
                    busy = total - numbers[3] - numbers[4]
                elif words and words[0] == "procs_running":
                    runnable = int(words[1])
        ours = {}
        for pid in [os.getpid()] + descendants(os.getpid()):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ours[pid] = int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        try:
            with open("/proc/pressure/cpu") as f:
                stall = int(re.search(r"^some .*total=(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            stall = None
        return time.time(), busy, total, ours, stall, runnable

    def run(self):
        while not self.stop.is_set():
            try:
                sample = self.read()
                with self.lock:
                    self.samples.append(sample)
            except (OSError, ValueError, IndexError):
                pass
            self.stop.wait(0.25)


def cpu_between(samples, start, end):
    """From start to end (wall time), from CpuSampler's samples: busy cores (of nproc), of which this
    run's processes and others, the share of the time some runnable thread waited for a CPU, and the
    most runnable threads."""
    before = [x for x in samples if x[0] <= start]
    inside = [x for x in samples if start < x[0] <= end]
    after = [x for x in samples if x[0] > end]
    first = before[-1] if before else (inside[0] if inside else None)
    last = after[0] if after else (inside[-1] if inside else None)
    if first is None or last is None or last[2] <= first[2]:
        return None
    cores = os.cpu_count() or 1
    span = last[2] - first[2]
    # A process that started meanwhile counts whole; one that ended meanwhile is lost (undercounted)
    ours = sum(last[3][pid] - first[3].get(pid, 0) for pid in last[3])
    busy = last[1] - first[1]
    return {"seconds": round(last[0] - first[0], 2),
            "busy_cores": round(cores * busy / span, 2),
            "ours_cores": round(cores * min(ours, busy) / span, 2),
            "others_cores": round(cores * max(0, busy - ours) / span, 2),
            "cpu_stall": None if first[4] is None or last[4] is None else
            round((last[4] - first[4]) / 1e6 / max(last[0] - first[0], 1e-3), 2),
            "max_runnable": max([x[5] for x in inside + [last]])}


def jvm_pauses(path, start, end):
    """The safepoints of a JVM's log (-Xlog:safepoint) that overlap start..end (wall time): how many,
    their total and the longest, in ms."""
    pauses = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                match = re.match(r"\[([^\]]+)\]\[\w+\s*\]\[safepoint\s*\].*Reaching safepoint: (\d+) ns.*"
                                 r"Total: (\d+) ns", line)
                if not match:
                    continue
                at = instant(match.group(1).replace("+0000", "+00:00"))
                reaching, total = int(match.group(2)) / 1e6, int(match.group(3)) / 1e6
                if at is not None and at >= start and at - total / 1000.0 <= end:
                    pauses.append((total, reaching))
    except OSError:
        return None
    # Reaching a safepoint waits for every thread to run to a poll: long when threads wait for a CPU.
    # The rest is the JVM's own work at the safepoint (a collection, a deoptimisation)
    return {"count": len(pauses), "total_ms": round(sum(p[0] for p in pauses), 1),
            "longest_ms": round(max([p[0] for p in pauses] or [0]), 1),
            "reaching_ms": round(sum(p[1] for p in pauses), 1),
            "at_safepoint_ms": round(sum(p[0] - p[1] for p in pauses), 1)}


def nginx_error_kind(line):
    """What an nginx error log line says about an upstream, in a few words."""
    for pattern, kind in [("connect() failed (111", "connection refused"),
                          ("prematurely closed", "upstream closed the connection early"),
                          ("reset by peer", "connection reset"), ("timed out", "timed out"),
                          ("no live upstreams", "no live upstreams"),
                          ("temporarily disabled", "server marked failed")]:
        if pattern in line:
            return kind
    return "other"


class StatsMonitor(threading.Thread):
    """Polls HAProxy's stats (CSV) and records every change of a server's status."""

    def __init__(self, port, servers):
        super().__init__(daemon=True, name="stats")
        self.port = port
        self.servers = servers
        self.status = {}
        self.changes = []  # (monotonic, server, status)
        self.rows = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def poll(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/stats;csv")
            body = conn.getresponse().read().decode()
        finally:
            conn.close()
        rows = {}
        for row in csv.DictReader(io.StringIO(body.lstrip("# "))):
            rows[(row["pxname"], row["svname"])] = row
        now = time.monotonic()
        with self.lock:
            self.rows = rows
            for server in self.servers:
                row = rows.get(("graceful-sequence", server))
                status = row["status"] if row else "?"
                if self.status.get(server) != status:
                    self.status[server] = status
                    self.changes.append((now, server, status))

    def run(self):
        while not self.stop.is_set():
            try:
                self.poll()
            except (OSError, http.client.HTTPException, KeyError):
                pass
            self.stop.wait(0.1)

    def current(self, server):
        with self.lock:
            return self.status.get(server)

    def first_change(self, server, status, after):
        with self.lock:
            for at, name, value in self.changes:
                if name == server and value == status and at >= after:
                    return at
        return None

    def wait_for(self, server, status, limit):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.current(server) == status:
                return True
            time.sleep(0.05)
        return False


# -- clients -------------------------------------------------------------------------------


class StreamRecord:
    """GET /sequence/stream as a browser's EventSource reads it, recorded by the load tool's
    `record` (bench/load/): every event (t, connection, type, id, data) and every connection (t,
    status, content_type, last_event_id_sent, error, ended, then_waited_ms), t on this script's
    clock (time.monotonic()). The tool writes them to NAME.stream in the run directory; they are
    read once it has ended (join).

    follow=True: through the proxy; reconnects after the stream ends or the connection fails,
    after the retry: the service sent (3 s before any), with Last-Event-ID; an answer that is
    not a 200 text/event-stream ends it for good, as it ends an EventSource.
    follow=False: a tap on one process, directly: one connection, no reconnect."""

    def __init__(self, tool, port, name, follow, directory):
        self.argv = [tool, "record", "-port", str(port)] + (["-follow"] if follow else [])
        self.path = os.path.join(directory, name + ".stream")
        self.events = []
        self.connections = []
        self.gave_up = None
        self.proc = None

    def start(self):
        self.proc = spawn(self.argv, None, self.path)

    def close(self):
        """Ends the stream (SIGTERM: the tool closes its connection and writes its last lines)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)

    def join(self, limit):
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with open(self.path, errors="replace") as f:
            for line in f:
                word, _, rest = line.partition(" ")
                if word == "EVENT":
                    self.events.append(json.loads(rest))
                elif word == "CONNECTION":
                    self.connections.append(json.loads(rest))
                elif word == "RESULT":
                    self.gave_up = json.loads(rest)["gave_up"]

    def values(self):
        found = []
        for event in self.events:
            if event["type"] == "value":
                try:
                    found.append(dict(json.loads(event["data"]), id=event["id"], t=event["t"],
                                      connection=event["connection"]))
                except ValueError:
                    pass
        return found


class LongPoller(threading.Thread):
    """GET /sequence/next?timeout=60s again and again on one keep-alive connection."""

    def __init__(self, port, name, stopping):
        super().__init__(daemon=True, name=name)
        self.port = port
        self.stopping = stopping
        self.statuses = {}
        self.errors = []
        self.longest = 0.0
        self.values = []  # the bodies of the 200 answers

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=75)
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/sequence/next?timeout=60s")
                response = conn.getresponse()
                body = response.read()
                self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
                if response.status == 200:
                    try:
                        self.values.append(json.loads(body))
                    except ValueError:
                        self.values.append({"unreadable": body[:200].decode("utf-8", "replace")})
            except (OSError, http.client.HTTPException) as ex:
                self.errors.append("%s: %s" % (type(ex).__name__, ex))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=75)
            self.longest = max(self.longest, time.monotonic() - started)
        conn.close()


class StartProbe(threading.Thread):
    """GET /sequence/last on one new process directly, every 20 ms from its port opening until a
    second after its first live answer (at most 60 s): what a client that a proxy sends there at
    once gets, the value restored from the state file or the cluster's."""

    def __init__(self, port, name, proc, stopping):
        super().__init__(daemon=True, name=name)
        self.port = port
        self.proc = proc
        self.stopping = stopping
        self.answers = []  # (wall time, status, source, index)
        # Requests sent on a connection the process accepted, which its request counter counts:
        # behind nginx, the harness tells nginx's first request from the probe's by this
        self.sent = 0

    def run(self):
        deadline, live_at = time.monotonic() + 60, None
        while not self.stopping.is_set() and self.proc.poll() is None and time.monotonic() < deadline:
            if live_at is not None and time.monotonic() - live_at > 1.0:
                return
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                conn.connect()
                self.sent += 1
                conn.request("GET", "/sequence/last", headers={"Connection": "close"})
                response = conn.getresponse()
                body = response.read()
                source, index = None, None
                if response.status == 200:
                    data = json.loads(body)
                    source, index = data.get("source"), data.get("index")
                self.answers.append((time.time(), response.status, source, index))
                if source == "live" and live_at is None:
                    live_at = time.monotonic()
            except (OSError, http.client.HTTPException, ValueError):
                pass
            finally:
                conn.close()
            self.stopping.wait(0.02)


def probe_summary(answers, ready_at):
    """A StartProbe's answers: how many, how many gave the value restored from the state file and for
    how long, and when the first live one came."""
    restored = [a for a in answers if a[2] == "restored"]
    live = [a for a in answers if a[2] == "live"]
    first = answers[0][0] if answers else None
    return {"answers": len(answers), "statuses": counts_of(str(a[1]) for a in answers),
            "restored": len(restored),
            "restored_for_ms": round((restored[-1][0] - first) * 1000) if restored else None,
            "restored_after_ready": sum(1 for a in restored if ready_at is not None and a[0] >= ready_at),
            "first_live_after_first_answer_ms": round((live[0][0] - first) * 1000) if live else None}


class Wrk:
    def __init__(self, args, port, directory):
        self.script = os.path.join(directory, "statuses.lua")
        with open(self.script, "w") as f:
            f.write(WRK_SCRIPT)
        self.argv = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % args.budget, "--latency",
                     "-s", self.script, "http://127.0.0.1:%d/sequence/last" % port]
        self.output_path = os.path.join(directory, "wrk.txt")
        self.proc = None

    def start(self):
        self.started = time.monotonic()
        self.proc = spawn(self.argv, None, self.output_path)

    def stop(self):
        """wrk stops on SIGINT and prints its summary (and our Lua counts) as after -d."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        wait_exit(self.proc, 30)
        self.seconds = time.monotonic() - self.started
        with open(self.output_path, errors="replace") as f:
            self.output = f.read()
        return self.parse(self.output)

    @staticmethod
    def parse(output):
        def number(pattern, default=0.0):
            match = re.search(pattern, output)
            return float(match.group(1)) if match else default

        def duration_ms(label):
            match = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s|m)\b" % re.escape(label), output, re.M)
            if not match:
                return None
            return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match.group(2)]

        errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
        if match:
            errors = dict(zip(["connect", "read", "write", "timeout"], map(int, match.groups())))
        statuses = {int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
        restored = re.search(r"^restored (\d+)$", output, re.M)
        return {
            "requests": int(number(r"(\d+) requests in")),
            "seconds": (lambda m: None if not m else float(m.group(1)) *
                        {"us": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2)])(
                re.search(r"requests in ([\d.]+)(us|ms|s|m|h),", output)),
            "rps": number(r"Requests/sec:\s+([\d.]+)"),
            "non_2xx_3xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
            "socket_errors": errors,
            "statuses": statuses,
            "restored": int(restored.group(1)) if restored else None,
            "latency_ms": {p: duration_ms(p) for p in ["50%", "90%", "99%"]},
            "latency_max_ms": (lambda m: None if not m else float(m.group(1)) *
                               {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)])(
                re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)", output)),
        }


class Browser:
    """Chromium through chromedriver's W3C WebDriver HTTP API, from urllib."""

    def __init__(self, args, directory):
        self.args = args
        self.directory = directory
        self.port = free_port()
        self.session = None
        self.proc = None
        # No proxy from the environment for loopback
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return json.loads(response.read().decode() or "{}").get("value")
        except urllib.error.HTTPError as ex:
            raise RuntimeError("WebDriver %s %s: %s %s" % (method, path, ex.code, ex.read().decode()[:500]))

    def start(self):
        self.proc = spawn([self.args.chromedriver, "--port=%d" % self.port], self.directory,
                          os.path.join(self.directory, "chromedriver.log"))
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.call("GET", "/status", timeout=2).get("ready"):
                    break
            except (OSError, RuntimeError, AttributeError):
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromedriver did not start; see %s/chromedriver.log" % self.directory)
            time.sleep(0.1)
        profile = os.path.join(self.directory, "chromium-profile")
        os.makedirs(profile, exist_ok=True)
        options = {"binary": self.args.chromium, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-proxy-server", "--window-size=1200,900", "--user-data-dir=" + profile]}
        value = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})
        self.session = value["sessionId"]
        self.version = value.get("capabilities", {}).get("browserVersion")
        # Before any document: record what every EventSource sees, the page's own included
        self.call("POST", "/session/%s/goog/cdp/execute" % self.session,
                  {"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": OBSERVER_SCRIPT}})

    def open(self, front_port):
        """The live page at / if it is served, else an EventSource injected into a page of that origin."""
        base = "http://127.0.0.1:%d/" % front_port
        status, content_type = http_status(front_port, "/")
        self.mode = ("the live page at /" if status == 200 and content_type.startswith("text/html")
                     else "an EventSource injected into a page of HAProxy's origin")
        self.call("POST", "/session/%s/url" % self.session, {"url": base})
        if self.mode != "the live page at /":
            log("GET / answers %d %s: no live page yet, so an EventSource is injected into that page "
                "(same origin)" % (status, content_type))
            self.run(FALLBACK_PAGE_SCRIPT)

    def run(self, script):
        return self.call("POST", "/session/%s/execute/sync" % self.session, {"script": script, "args": []})

    def record(self):
        return self.run("return {page: window.sequencePage || null, "
                        "observed: window.rollingRestartObserver || null};")

    def state(self):
        return self.run("const p = window.sequencePage; return p ? {values: p.values.length, "
                        "closed: p.closed, states: p.states} : null;")

    def screenshot(self, path):
        data = self.call("GET", "/session/%s/screenshot" % self.session)
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def quit(self):
        if self.proc is None:
            return
        browser_pids = descendants(self.proc.pid)
        extra_pids.extend(browser_pids)
        if self.session is not None:
            try:
                self.call("DELETE", "/session/%s" % self.session, timeout=20)
            except (OSError, RuntimeError):
                pass
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                wait_exit(self.proc, 10)
            except RuntimeError:
                pass
        kill_alive(browser_pids)


# -- the scenario --------------------------------------------------------------------------


class Scenario:
    def __init__(self, args):
        self.args = args
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.directory = os.path.join(OUT, stamp)
        os.makedirs(self.directory, exist_ok=True)
        self.stopping = threading.Event()
        self.nginx = args.proxy == "nginx"
        self.proxy_name = "nginx" if self.nginx else "HAProxy"
        with open(args.config) as f:
            self.config_text = f.read()
        names = nginx_servers(self.config_text) if self.nginx else server_names(self.config_text)
        if len(names) < args.instances:
            raise RuntimeError("%s lists %d servers, fewer than the %d instances" % (args.config, len(names),
                                                                                      args.instances))
        self.server_names = names[:args.instances]
        self.redis = None
        extra = []
        if args.cluster:
            self.redis = Redis(args, os.path.join(self.directory, "redis"))
            extra = ["--sequence.cluster.enabled=true", "--spring.data.redis.url=%s" % self.redis.url(),
                     "--sequence.stream.replay=%d" % args.replay]
        self.instances = [Instance(name, free_port(), os.path.join(self.directory, name), args, extra)
                          for name in self.server_names]
        self.front_port = free_port()
        self.stats_port = free_port()
        self.processes = []  # every service process: label, pid, port, start, exit status, bye
        self.restarts = []
        self.taps = {}  # label -> StreamRecord
        self.probes = {}  # label -> StartProbe (cluster mode)
        self.browser = None
        self.deadline = None
        self.teardown_at = None  # wall-clock time of the first SIGTERM of the teardown

    def check_time(self):
        if time.monotonic() > self.deadline:
            raise RuntimeError("the scenario ran past its budget of %d s" % self.args.budget)

    def start_instance(self, instance):
        proc = instance.start()
        self.processes.append({"label": instance.label, "pid": proc.pid, "port": instance.port,
                               "server": instance.name, "log": os.path.relpath(instance.log_path, ROOT),
                               "jvm_log": os.path.relpath(instance.jvm_log(), ROOT), "started_at": time.time()})
        if self.redis is not None:
            probe = self.probes[instance.label] = StartProbe(instance.port, "probe-" + instance.label, proc,
                                                             self.stopping)
            probe.start()
        return proc

    def record_exit(self, instance):
        """What a process left when it exited: its status and last line, and in cluster mode its state
        file (before the next process on the same directory overwrites it) and what its log says."""
        last = instance.last_line()
        record = self.process(instance.label)
        record.update({"exit_status": instance.proc.returncode, "bye_last": last.endswith(BYE),
                       "exited_at": time.time()})
        if self.redis is not None:
            record["state_file"] = instance.state_file()
        return last

    def record_ready(self, instance):
        ready = instance.wait_ready()
        self.process(instance.label).update({"ready_s": round(ready, 2), "ready_at": time.time()})
        tap = StreamRecord(self.args.load, instance.port, "tap-" + instance.label, False, self.directory)
        tap.start()
        self.taps[instance.label] = tap
        return ready

    def process(self, label):
        return next(p for p in self.processes if p["label"] == label)

    def run(self):
        a = self.args
        self.deadline = time.monotonic() + a.budget
        self.started_at = time.time()
        self.cpu = CpuSampler()
        self.cpu.start()
        log("run directory %s" % os.path.relpath(self.directory, ROOT))
        if self.redis is not None:
            self.redis.start()
            log("redis-server (pid %d) on %d, its files in %s"
                % (self.redis.proc.pid, self.redis.port, os.path.relpath(self.redis.directory, ROOT)))
        # In cluster mode one after the other, as a rolling deployment starts them: the first leads
        # while the others start, and no more than one JVM starts at a time, as in the restarts
        for instance in self.instances:
            self.start_instance(instance)
            if self.redis is not None:
                ready = self.record_ready(instance)
                log("%s (pid %d) ready on %d after %.1f s" % (instance.label, instance.proc.pid, instance.port, ready))
        for instance in self.instances if self.redis is None else []:
            ready = self.record_ready(instance)
            log("%s (pid %d) ready on %d after %.1f s" % (instance.label, instance.proc.pid, instance.port, ready))

        if self.nginx:
            self.start_nginx()
        else:
            self.start_haproxy()

        if not a.no_browser:
            self.browser = Browser(a, self.directory)
            self.browser.start()
            self.browser.open(self.front_port)
            log("Chromium %s follows the stream through %s (%s)"
                % (self.browser.version, self.proxy_name, self.browser.mode))

        self.sse = StreamRecord(self.args.load, self.front_port, "sse-client", True, self.directory)
        self.sse.start()
        self.pollers = [LongPoller(self.front_port, "long-poll-%d" % n, self.stopping) for n in range(a.long_polls)]
        for poller in self.pollers:
            poller.start()
        self.wrk = Wrk(a, self.front_port, self.directory)
        self.wrk.start()
        self.load_started = time.monotonic()
        log("load: %s, %d long-polls, an SSE client%s" % (" ".join(self.wrk.argv[:5]), a.long_polls,
                                                           "" if a.no_browser else ", the browser"))
        time.sleep(a.warmup)

        for name in a.restarts.split(","):
            self.check_time()
            self.restart(next(i for i in self.instances if i.name == name))
            time.sleep(a.settle)

        self.check_time()
        self.results = self.collect()
        self.teardown()
        self.cpu.stop.set()
        if self.redis is not None:
            # Once every instance has exited, so that the history is complete
            self.save_cluster_data()
            self.redis.stop()
            self.results["cluster"] = analyse_cluster(self.results, self.directory)
        return self.results

    def start_haproxy(self):
        a = self.args
        rendered = render_config(self.config_text, self.front_port, self.stats_port,
                                 [i.port for i in self.instances])
        config_path = os.path.join(self.directory, "haproxy.cfg")
        with open(config_path, "w") as f:
            f.write(rendered)
        self.haproxy_log = self.proxy_log = os.path.join(self.directory, "haproxy.log")
        self.haproxy = self.proxy = spawn([a.haproxy, "-db", "-f", config_path], self.directory, self.haproxy_log,
                                          env=haproxy_environment(rendered))
        self.monitor = StatsMonitor(self.stats_port, self.server_names)
        self.monitor.start()
        for instance in self.instances:
            if not self.monitor.wait_for(instance.name, "UP", 30):
                raise RuntimeError("HAProxy does not see %s UP; see %s" % (instance.name, self.haproxy_log))
        log("HAProxy on %d, stats on %d, sees %s UP"
            % (self.front_port, self.stats_port, " and ".join(self.server_names)))

    def start_nginx(self):
        a = self.args
        rendered = render_nginx_config(self.config_text, self.front_port, [i.port for i in self.instances])
        config_path = os.path.join(self.directory, "nginx.conf")
        with open(config_path, "w") as f:
            f.write(rendered)
        self.fail_timeout = nginx_fail_timeout(rendered)
        self.proxy_log = os.path.join(self.directory, "nginx.log")
        # In the foreground, its pid file in the run directory: Debian's own nginx keeps /run/nginx.pid
        self.proxy = spawn([a.nginx, "-p", self.directory + "/", "-c", config_path,
                            "-g", "daemon off; pid %s;" % os.path.join(self.directory, "nginx.pid")],
                           self.directory, self.proxy_log)
        self.tail = LogTail(self.proxy_log)
        self.tail.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_status(self.front_port, "/readyz")[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline or self.proxy.poll() is not None:
                raise RuntimeError("nginx does not answer on %d; see %s" % (self.front_port, self.proxy_log))
            time.sleep(0.05)
        log("nginx on %d in front of %s (no health checks: it finds a leaving instance by failed requests)"
            % (self.front_port, " and ".join(self.server_names)))

    def served_through_proxy(self, instance):
        """How many GET /sequence/last an instance has answered through the proxy: wrk's, and none of
        the start probe's (cluster mode), which may still be in flight (then it is not counted yet)."""
        probe = self.probes.get(instance.label)
        return self.requests_to_last(instance) - (probe.sent if probe else 0)

    def requests_to_last(self, instance):
        """How many GET /sequence/last an instance has answered, by its own request counter."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=2)
            try:
                conn.request("GET", "/actuator/metrics/http.server.requests?tag=uri:/sequence/last")
                response = conn.getresponse()
                body = response.read()
            finally:
                conn.close()
            if response.status != 200:
                return 0
            return int(next(m["value"] for m in json.loads(body)["measurements"] if m["statistic"] == "COUNT"))
        except (OSError, http.client.HTTPException, ValueError, KeyError, StopIteration):
            return 0

    def restart(self, instance):
        if self.nginx:
            return self.restart_behind_nginx(instance)
        old_label, proc = instance.label, instance.proc
        signalled, signalled_at = time.monotonic(), time.time()
        os.kill(proc.pid, signal.SIGTERM)
        wait_exit(proc, 90)
        exited = time.monotonic()
        last = self.record_exit(instance)
        # Marked DOWN before the exit if the checks fit the drain delay, after it if they do not
        down = self.monitor.first_change(instance.name, "DOWN", signalled)
        if down is None and self.monitor.wait_for(instance.name, "DOWN", 30):
            down = self.monitor.first_change(instance.name, "DOWN", signalled)
        step = {"server": instance.name, "old": old_label, "old_pid": proc.pid, "signalled_at": signalled_at,
                "down_after_s": None if down is None else round(down - signalled, 2),
                "exit_after_s": round(exited - signalled, 2), "exit_status": proc.returncode,
                "bye_last": last.endswith(BYE)}
        log("%s (pid %d): SIGTERM; DOWN in HAProxy after %s s; exit after %.2f s, status %d, %s"
            % (old_label, proc.pid, step["down_after_s"], step["exit_after_s"], proc.returncode,
               "bye last" if step["bye_last"] else "last line: " + last))
        started = time.monotonic()
        self.start_instance(instance)
        ready = self.record_ready(instance)
        if not self.monitor.wait_for(instance.name, "UP", 30):
            raise RuntimeError("HAProxy does not see %s UP again; see %s" % (instance.name, self.haproxy_log))
        up = self.monitor.first_change(instance.name, "UP", started) or time.monotonic()
        step.update({"new": instance.label, "new_pid": instance.proc.pid, "ready_after_start_s": round(ready, 2),
                     "up_after_ready_s": round(up - started - ready, 2),
                     "out_of_rotation_s": None if down is None else round(up - down, 2)})
        self.restarts.append(step)
        log("%s (pid %d) ready after %.1f s, UP in HAProxy %.2f s later"
            % (instance.label, instance.proc.pid, ready, step["up_after_ready_s"]))

    def restart_behind_nginx(self, instance):
        old_label, proc = instance.label, instance.proc
        signalled, signalled_at = time.monotonic(), time.time()
        os.kill(proc.pid, signal.SIGTERM)
        wait_exit(proc, 90)
        exited = time.monotonic()
        last = self.record_exit(instance)
        step = {"server": instance.name, "old": old_label, "old_pid": proc.pid, "signalled": signalled,
                "signalled_at": signalled_at,
                "exit_after_s": round(exited - signalled, 2), "exit_status": proc.returncode,
                "bye_last": last.endswith(BYE), "down_after_s": None}
        log("%s (pid %d): SIGTERM; exit after %.2f s, status %d, %s"
            % (old_label, proc.pid, step["exit_after_s"], proc.returncode,
               "bye last" if step["bye_last"] else "last line: " + last))
        started = time.monotonic()
        self.start_instance(instance)
        ready = self.record_ready(instance)
        # No health check says when nginx takes the instance back: the first request it sends
        # there does, at most fail_timeout after its last failed attempt
        deadline = time.monotonic() + self.fail_timeout + 30
        while self.served_through_proxy(instance) <= 0:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx sends nothing to %s; see %s" % (instance.label, self.proxy_log))
            time.sleep(0.1)
        back = time.monotonic()
        port = ":%d" % instance.port
        failed = [(t, line) for t, line in self.tail.since(signalled) if port in line and "upstream" in line]
        first = failed[0][0] if failed else None
        step.update({"new": instance.label, "new_pid": instance.proc.pid, "ready_after_start_s": round(ready, 2),
                     "up_after_ready_s": round(back - started - ready, 2),
                     "first_failure_after_s": None if first is None else round(first - signalled, 2),
                     "out_of_rotation_s": None if first is None else round(back - first, 2),
                     "back": back})
        self.restarts.append(step)
        log("%s (pid %d) ready after %.1f s, sent a request by nginx %.2f s later"
            % (instance.label, instance.proc.pid, ready, step["up_after_ready_s"]))

    def collect(self):
        """Stops the load and the clients, and gathers what they saw."""
        results = {}
        # The proxy logs a request when it ends: what is logged from now on is this teardown
        with open(self.proxy_log, errors="replace") as f:
            self.proxy_log_lines = [line.rstrip("\n") for line in f if line.strip()]
        results["wrk"] = self.wrk.stop()
        results["wrk"]["argv"] = " ".join("statuses.lua" if w == self.wrk.script else w
                                          for w in self.wrk.argv).replace(":%d/" % self.front_port, ":$%s/" % self.proxy_name.upper())
        results["load_seconds"] = round(time.monotonic() - self.load_started, 1)
        self.browser_record = None
        if self.browser is not None:
            record = self.browser_record = self.browser.record()
            try:
                self.browser.screenshot(os.path.join(self.directory, "browser.png"))
            except (OSError, RuntimeError, TypeError):
                pass
        self.stopping.set()
        self.sse.close()
        for tap in self.taps.values():
            tap.close()
        for poller in self.pollers:
            poller.join(70)
        self.sse.join(10)
        for tap in self.taps.values():
            tap.join(10)
        if self.nginx:
            self.tail.stop.set()
        else:
            self.monitor.poll()
            self.monitor.stop.set()

        # In cluster mode every process serves the same values: no value tells which one sent it
        origin = {} if self.redis is not None else self.attribution()
        results["long_polls"] = {
            "clients": len(self.pollers),
            "statuses": merge_counts(p.statuses for p in self.pollers),
            "errors": [e for p in self.pollers for e in p.errors],
            "longest_s": round(max([p.longest for p in self.pollers] or [0]), 2)}
        results["sse_client"] = self.stream_summary(self.sse.values(), self.sse.events, origin)
        results["sse_client"].update({
            "client": "`load record`",
            "connections": len(self.sse.connections), "reconnects": max(0, len(self.sse.connections) - 1),
            "gave_up": self.sse.gave_up,
            "non_200": sum(1 for c in self.sse.connections if c.get("status") not in (None, 200)),
            "connection_errors": [c["error"] for c in self.sse.connections if "error" in c],
            "last_event_id_sent": sum(1 for c in self.sse.connections if c["last_event_id_sent"]),
            "waited_ms": [c["then_waited_ms"] for c in self.sse.connections if "then_waited_ms" in c],
            "seconds_without_values": gaps([(e["t"], e["type"]) for e in self.sse.events])})
        if self.browser is not None:
            results["browser"] = self.browser_summary(record, origin)
        if self.nginx:
            results["nginx"] = self.nginx_summary()
        else:
            results["haproxy"] = self.haproxy_summary()
        results["restarts"] = self.restarts
        results["processes"] = self.processes
        results["taps"] = {label: len(tap.values()) for label, tap in self.taps.items()}
        results["ids_per_server"] = self.ids_per_server()
        return results

    def attribution(self):
        """Which process emitted a value: every process's own stream, keyed by what identifies a value."""
        origin = {}
        for label, tap in self.taps.items():
            for value in tap.values():
                origin[(value.get("emittedAt"), value.get("index"), value.get("value"))] = label
        return origin

    def stream_summary(self, values, events, origin):
        labels = [origin.get((v.get("emittedAt"), v.get("index"), v.get("value"))) for v in values]
        seen = {}
        for label in labels:
            key = label or "unattributed"
            seen[key] = seen.get(key, 0) + 1
        # Instances share the clock: a value emitted before one the client already has is stale,
        # e.g. replayed by an instance that read another instance's Last-Event-ID as its own
        newest, stale = None, 0
        for value in values:
            at = instant(value.get("emittedAt"))
            if at is None:
                continue
            if newest is not None and at <= newest:
                stale += 1
            newest = at if newest is None else max(newest, at)
        return {"values": len(values), "not_newer_than_one_already_received": stale,
                "shutdown_events": sum(1 for e in events if e["type"] == "shutdown"),
                "busy_events": sum(1 for e in events if e["type"] == "busy"),
                "values_by_process": seen,
                "ids": self.id_order(values, labels)}

    def id_order(self, values, labels):
        """Ids must increase within a process and across the restarts of one instance (one port);
        a switch to the other instance may go back, as ids are per instance."""
        per_server, backwards, duplicates, seen = {}, 0, 0, set()
        for value, label in zip(values, labels):
            if label is None:
                continue
            try:
                ident = int(value.get("id"))
            except (TypeError, ValueError):
                continue
            server = label.rstrip("0123456789")
            if (server, ident) in seen:
                duplicates += 1
            seen.add((server, ident))
            if server in per_server and ident <= per_server[server]:
                backwards += 1
            per_server[server] = max(ident, per_server.get(server, ident))
        return {"backwards_within_an_instance": backwards, "duplicates": duplicates}

    def ids_per_server(self):
        """From the taps: do ids keep increasing across the restarts of each instance?"""
        out = {}
        for instance in self.instances:
            ranges = []
            for gen in range(1, instance.generation + 1):
                tap = self.taps.get("%s%d" % (instance.name, gen))
                ids = []
                for v in tap.values() if tap else []:
                    try:
                        ids.append(int(v["id"]))
                    except (TypeError, ValueError, KeyError):
                        pass
                ranges.append([min(ids), max(ids)] if ids else None)
            known = [r for r in ranges if r]
            increasing = all(known[i][1] < known[i + 1][0] for i in range(len(known) - 1))
            out[instance.name] = {"id_ranges": ranges, "increasing_across_restarts": increasing}
        return out

    def browser_summary(self, record, origin):
        page = (record or {}).get("page") or {}
        observed = (record or {}).get("observed") or {}
        sources = observed.get("sources") or []
        events = [e for s in sources for e in s.get("events", [])]
        values = []
        for e in events:
            if e.get("type") == "value":
                try:
                    values.append(dict(json.loads(e["data"]), id=e.get("id")))
                except (ValueError, TypeError):
                    pass
        summary = self.stream_summary(values, events, origin)
        page_events = page.get("events") or []
        summary.update({
            "mode": self.browser.mode, "version": self.browser.version,
            "page_values": len(page.get("values") or []),
            "page_events": {name: page_events.count(name) for name in sorted(set(page_events))},
            "page_states": page.get("states"), "closed": page.get("closed"),
            "event_sources": len(sources),
            "observed_states": [s.get("states") for s in sources],
            "seconds_without_values": gaps([(e["t"] / 1000.0, e["type"]) for e in events]),
            "observed_errors": sum(1 for e in events if e.get("type") == "error"),
            "observed_opens": sum(1 for e in events if e.get("type") == "open")})
        return summary

    def save_cluster_data(self):
        """What the cluster-mode analysis reads, kept in the run directory so that --report can analyse
        the run again: the history (history.json) and what the clients, the probes and the CPU sampler
        recorded (cluster.json)."""
        history = self.redis.history()
        with open(os.path.join(self.directory, "history.json"), "w") as f:
            json.dump(history, f)
        clients = {"SSE client": self.sse.values()}
        if self.browser_record is not None:
            clients["Chromium"] = browser_values(self.browser_record)
        for label, tap in self.taps.items():
            clients["tap " + label] = tap.values()
        with self.cpu.lock:
            cpu = list(self.cpu.samples)
        data = {"period": self.args.period, "started_at": self.started_at, "teardown_at": self.teardown_at,
                "clients": clients, "long_polls": [v for p in self.pollers for v in p.values],
                "probes": {label: probe.answers for label, probe in self.probes.items()},
                "cpu": [[x[0], x[1], x[2], {str(k): v for k, v in x[3].items()}, x[4], x[5]] for x in cpu],
                "redis_version": version([self.args.redis_server, "--version"]), "key": HISTORY_KEY}
        with open(os.path.join(self.directory, "cluster.json"), "w") as f:
            json.dump(data, f)

    def haproxy_summary(self):
        rows = self.monitor.rows
        fields = ["stot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "econ", "eresp", "wretr", "wredis", "chkfail",
                  "chkdown", "downtime", "cli_abrt", "srv_abrt"]
        servers = {}
        for name in self.server_names + ["BACKEND"]:
            row = rows.get(("graceful-sequence", name), {})
            servers[name] = {f: int(row[f]) if row.get(f, "").isdigit() else 0 for f in fields}
        front = rows.get(("graceful-sequence", "FRONTEND"), {})
        frontend = {f: int(front[f]) if front.get(f, "").isdigit() else 0
                    for f in ["stot", "req_tot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "ereq"]}
        lines = self.proxy_log_lines
        # dontlog-normal: what is logged is what went wrong, apart from server state changes
        state = [line for line in lines if re.search(r"Server \S+ is (UP|DOWN)", line) and "[WARNING]" not in line]
        notices = [line for line in lines if line.startswith("[NOTICE]") or line.startswith("[WARNING]")]
        abnormal = [line for line in lines if line not in state and line not in notices]
        return {"servers": servers, "frontend": frontend, "state_changes": state, "abnormal_log_lines": len(abnormal),
                "abnormal_examples": abnormal[:10]}

    def nginx_summary(self):
        """From nginx's log: the access log of requests that went wrong or took more than one attempt
        (the file's map), and the error log's upstream errors by kind and by restart."""
        access, errors = [], []
        for line in self.proxy_log_lines:
            match = re.search(r'" (\d{3}) \d+ upstream (.*) status (.*) time ', line)
            if match:
                access.append({"status": int(match.group(1)), "upstreams": match.group(2),
                               "upstream_statuses": match.group(3)})
            elif "upstream" in line and re.search(r"\[(error|warn|crit|alert)\]", line):
                errors.append(line)
        kinds = {}
        for line in errors:
            kind = nginx_error_kind(line)
            kinds[kind] = kinds.get(kind, 0) + 1
        statuses = {}
        for entry in access:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        retried = [e for e in access if "," in e["upstream_statuses"]]
        per_restart = []
        for n, step in enumerate(self.restarts):
            until = self.restarts[n + 1]["signalled"] if n + 1 < len(self.restarts) else None
            lines = [line for _, line in self.tail.since(step["signalled"], until)]
            per_restart.append({
                "retried": sum(1 for line in lines if re.search(r" status \S+, ", line)),
                "errors": sum(1 for line in lines if "upstream" in line and "[error]" in line)})
        return {"logged_requests": len(access), "retried": len(retried),
                "retried_statuses": counts_of(e["upstream_statuses"] for e in retried),
                "answered_5xx": sum(n for k, n in statuses.items() if k >= 500), "statuses": statuses,
                "error_kinds": kinds, "per_restart": per_restart,
                "examples": [line for line in self.proxy_log_lines if "upstream" in line][:10]}

    def teardown(self):
        """Ends the browser, the proxy and the instances (gracefully, by PID)."""
        if self.browser is not None:
            self.browser.quit()
        self.teardown_at = time.time()
        for instance in self.instances:
            if instance.proc is not None and instance.proc.poll() is None:
                os.kill(instance.proc.pid, signal.SIGTERM)
        for instance in self.instances:
            if instance.proc is not None:
                wait_exit(instance.proc, 90)
                self.record_exit(instance)
        if self.proxy.poll() is None:
            os.kill(self.proxy.pid, signal.SIGTERM)
            wait_exit(self.proxy, 10)


def gaps(events):
    """Seconds from each shutdown event to the next value: how long a client went without values."""
    found, since = [], None
    for at, kind in events:
        if kind == "shutdown" and since is None:
            since = at
        elif kind == "value" and since is not None:
            found.append(round(at - since, 1))
            since = None
    return found


def instant(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


def counts_of(items):
    found = {}
    for item in items:
        found[item] = found.get(item, 0) + 1
    return found


def merge_counts(dicts):
    total = {}
    for d in dicts:
        for key, n in d.items():
            total[key] = total.get(key, 0) + n
    return {str(k): v for k, v in sorted(total.items())}


def emitted_ms(text):
    """An emittedAt as ms since the epoch: the value's event id in cluster mode."""
    at = instant(text)
    return None if at is None else int(round(at * 1000))


def browser_values(record):
    """The value events every EventSource of the page saw, in the order they came, with their data."""
    sources = ((record or {}).get("observed") or {}).get("sources") or []
    events = sorted((e for s in sources for e in s.get("events", []) if e.get("type") == "value"),
                    key=lambda e: e.get("t", 0))
    values = []
    for e in events:
        try:
            values.append(dict(json.loads(e["data"]), id=e.get("id")))
        except (ValueError, TypeError):
            values.append({"id": e.get("id"), "unreadable": True})
    return values


def against_history(values, by_id, ids, ordered=True):
    """One client's values against the cluster's history: each must be the history's entry with its
    id (value, and index, which a value restored from a state file has as 0), with emittedAt equal
    to the id; a stream client (ordered) must have had every entry of the history over the range it
    covered, each once and in order, across its reconnects."""
    received, not_in_history, differing, emitted_not_id, restored = [], [], [], 0, 0
    for v in values:
        try:
            ident = int(v.get("id"))
        except (TypeError, ValueError):
            not_in_history.append(str(v.get("id")))
            continue
        received.append(ident)
        entry = by_id.get(ident)
        if entry is None:
            not_in_history.append(ident)
            continue
        was_restored = v.get("source") == "restored"
        restored += was_restored
        index = 0 if was_restored else entry["index"]
        if v.get("value") != entry["value"] or v.get("index") != index:
            differing.append({"id": ident, "got": [v.get("value"), v.get("index"), v.get("source")],
                              "history": [entry["value"], entry["index"]]})
        if emitted_ms(v.get("emittedAt")) != ident:
            emitted_not_id += 1
    summary = {"values": len(values), "restored": restored, "not_in_history": not_in_history[:20],
               "differing": differing[:20], "differing_count": len(differing),
               "emitted_at_not_id": emitted_not_id}
    if not ordered:
        summary["ok"] = not not_in_history and not differing and emitted_not_id == 0
        return summary
    backwards = sum(1 for n in range(1, len(received)) if received[n] < received[n - 1])
    duplicates = len(received) - len(set(received))
    expected = [i for i in ids if received and received[0] <= i <= received[-1]]
    missing = sorted(set(expected) - set(received))
    summary.update({
        "first_index": by_id[received[0]]["index"] if received and received[0] in by_id else None,
        "last_index": by_id[received[-1]]["index"] if received and received[-1] in by_id else None,
        "expected": len(expected), "missing": len(missing), "missing_examples": missing[:20],
        "duplicates": duplicates, "backwards": backwards, "equal": received == expected})
    summary["ok"] = (summary["equal"] and not not_in_history and not differing and emitted_not_id == 0
                     and len(received) > 0)
    return summary


def contiguous(received, values):
    """Whether what a process logged as received is one run of the history's values, in order."""
    if not received:
        return True
    n = len(received)
    return any(values[start:start + n] == received for start in range(len(values) - n + 1)
               if values[start] == received[0])


def percentile(ordered, p):
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def analyse_cluster(results, directory):
    """The cluster's history (history.json, read from Redis once every instance had exited) and what
    every client, process and state file had against it, from what the run kept in its directory."""
    with open(os.path.join(directory, "history.json")) as f:
        history = json.load(f)
    with open(os.path.join(directory, "cluster.json")) as f:
        data = json.load(f)
    cpu = [[x[0], x[1], x[2], {int(k): v for k, v in x[3].items()}, x[4], x[5]] for x in data["cpu"]]
    by_id = {h["id"]: h for h in history}
    ids = [h["id"] for h in history]
    period_ms = round(seconds(data["period"]) * 1000)
    bound_ms = period_ms + HANDOVER_SLACK_MS
    end_ms = data["teardown_at"] * 1000 if data["teardown_at"] else float("inf")

    indexes, duplicate_indexes = set(), []
    for h in history:
        if h["index"] in indexes:
            duplicate_indexes.append(h["index"])
        indexes.add(h["index"])
    backwards = [[ids[n - 1], ids[n]] for n in range(1, len(ids)) if ids[n] <= ids[n - 1]]
    index_steps = [[history[n - 1]["index"], history[n]["index"]] for n in range(1, len(history))
                   if history[n]["index"] != history[n - 1]["index"] + 1]
    # Up to the teardown, which stops every instance at once: nobody takes a lead handed over then
    gaps = [{"from": ids[n - 1], "to": ids[n], "ms": ids[n] - ids[n - 1], "index": history[n]["index"]}
            for n in range(1, len(ids)) if ids[n] <= end_ms]
    spans = sorted(g["ms"] for g in gaps)

    processes = {p["label"]: p for p in results["processes"]}
    facts = {label: process_log(os.path.join(ROOT, p["log"])) for label, p in processes.items()}
    leaders = []
    for h in history:
        if not leaders or leaders[-1]["lease"] != h["lease"]:
            leaders.append({"lease": h["lease"], "first_index": h["index"], "first_id": h["id"], "values": 0})
        leaders[-1]["values"] += 1
        leaders[-1]["last_index"], leaders[-1]["last_id"] = h["index"], h["id"]
    for leader in leaders:
        took = [label for label in processes
                if any(lead["position"] == leader["first_index"] for lead in facts[label]["leads"])]
        leader["process"] = took[0] if len(took) == 1 else (" or ".join(took) or None)

    # A late value: what the run, the leader's JVM and the machine did meanwhile, and whether the next
    # value came back on the fixed-rate schedule (then the gap after it is short)
    leader_of = {leader["lease"]: leader["process"] for leader in leaders}
    for n, gap in enumerate(gaps):
        if gap["ms"] <= bound_ms:
            continue
        gap["leader"] = leader_of.get(by_id[gap["to"]]["lease"])
        gap["next_ms"] = gaps[n + 1]["ms"] if n + 1 < len(gaps) else None
        gap["during"] = events_between(results, facts, gap["from"], gap["to"])
        gap["machine"] = cpu_between(cpu, gap["from"] / 1000.0, gap["to"] / 1000.0)
        leader = processes.get(gap["leader"])
        gap["leader_pauses"] = jvm_pauses(os.path.join(ROOT, leader["jvm_log"]), gap["from"] / 1000.0,
                                          gap["to"] / 1000.0) if leader and leader.get("jvm_log") else None

    clients = {name: against_history(values, by_id, ids) for name, values in data["clients"].items()}
    polls = [dict(v, id=emitted_ms(v.get("emittedAt"))) for v in data["long_polls"]]
    long_polls = against_history(polls, by_id, ids, ordered=False)

    values = [h["value"] for h in history]
    summaries = {}
    for label, p in processes.items():
        received = facts[label]["received"]
        state = p.get("state_file") or {}
        saved = by_id.get(state.get("mtime_ms"))
        handover = facts[label]["handover"]
        summaries[label] = {
            "received": len(received), "last_received": received[-1] if received else None,
            "state_value": state.get("value"), "state_text": state.get("text"),
            "state_id": state.get("mtime_ms"), "state_index": saved["index"] if saved else None,
            "state_matches": bool(received) and state.get("value") == received[-1]
            and saved is not None and saved["value"] == received[-1],
            "received_in_order": contiguous(received, values),
            "led": bool(handover and handover["message"].startswith("Handed the lead")),
            "leads": [lead["position"] for lead in facts[label]["leads"]],
            "handover": (handover or {}).get("message"),
            "warnings": facts[label]["warnings"],
            "start_probe": probe_summary(data["probes"][label], p.get("ready_at"))
            if label in data["probes"] else None}
        p["cluster"] = summaries[label]

    restarts = []
    for step in results["restarts"]:
        at_ms = step["signalled_at"] * 1000
        ready_ms = processes.get(step["new"], {}).get("ready_at", step["signalled_at"]) * 1000
        across = next((g for g in gaps if g["from"] <= at_ms < g["to"]), None)
        within = [g for g in gaps if g["to"] > at_ms and g["from"] < ready_ms]
        old = summaries[step["old"]]
        # The handover: from the leaving leader's last value to the next leader's first
        handover = None
        for n, leader in enumerate(leaders[:-1]):
            if leader["process"] == step["old"] and leader["last_id"] <= at_ms + 60000 and \
                    leaders[n + 1]["first_id"] > at_ms:
                handover = {"to": leaders[n + 1]["process"], "ms": leaders[n + 1]["first_id"] - leader["last_id"],
                            "last_before_sigterm_ms": round(at_ms - leader["last_id"])}
                break
        restarts.append({"old": step["old"], "new": step["new"], "led": old["led"], "handover": old["handover"],
                         "handover_gap": handover if old["led"] else None,
                         "gap_across_sigterm_ms": across["ms"] if across else None,
                         "longest_gap_until_ready_ms": max(g["ms"] for g in within) if within else None})
    return {
        "key": data["key"], "entries": len(history),
        "first_index": history[0]["index"] if history else None,
        "last_index": history[-1]["index"] if history else None,
        "period_ms": period_ms, "bound_ms": bound_ms,
        "checked_until": None if end_ms == float("inf") else int(end_ms),
        "entries_after_teardown": sum(1 for i in ids if i > end_ms),
        "gaps": {"count": len(gaps), "p50_ms": percentile(spans, 50), "p99_ms": percentile(spans, 99),
                 "max_ms": spans[-1] if spans else None,
                 "longest": max(gaps, key=lambda g: g["ms"]) if gaps else None,
                 "over_bound": [g for g in gaps if g["ms"] > bound_ms]},
        "duplicate_indexes": duplicate_indexes, "ids_backwards": backwards, "index_steps": index_steps,
        "leaders": leaders, "clients": clients, "long_polls": long_polls, "restarts": restarts,
        "machine": cpu_between(cpu, data["started_at"], data["teardown_at"] or (cpu[-1][0] if cpu else 0)),
        "redis_version": data["redis_version"]}


def events_between(results, facts, gap_from, gap_to, before=1000):
    """What the run did from a second before a gap to its end (ms since the epoch), in ms from the gap's
    start: the JVMs starting then, signals, starts, readiness, exits, leads and handovers."""
    from_ms, events = gap_from - before, []
    for p in results["processes"]:
        # A JVM starting takes both cores for seconds
        if p["started_at"] * 1000 < gap_from < p.get("ready_at", float("inf")) * 1000:
            events.append((gap_from, "%s starting (for %.1f s)" % (p["label"], gap_from / 1000.0 - p["started_at"])))
        for key, what in [("started_at", "started"), ("ready_at", "ready"), ("exited_at", "exited")]:
            if p.get(key) is not None and from_ms <= p[key] * 1000 <= gap_to:
                events.append((p[key] * 1000, "%s %s" % (p["label"], what)))
        for lead in facts[p["label"]]["leads"]:
            if lead["at"] is not None and from_ms <= lead["at"] * 1000 <= gap_to:
                events.append((lead["at"] * 1000, "%s took the lead at position %s" % (p["label"], lead["position"])))
        handover = facts[p["label"]]["handover"]
        if handover and handover["at"] is not None and from_ms <= handover["at"] * 1000 <= gap_to:
            events.append((handover["at"] * 1000, "%s: %s" % (p["label"], handover["message"])))
    for step in results["restarts"]:
        if from_ms <= step["signalled_at"] * 1000 <= gap_to:
            events.append((step["signalled_at"] * 1000, "SIGTERM to %s" % step["old"]))
    return ["%+d ms: %s" % (round(at - gap_from), what) for at, what in sorted(events)]


# -- verdict and report --------------------------------------------------------------------


def verdict(results):
    run = results["run"]
    wrk = results["wrk"]
    browser = results.get("browser")
    cluster = results.get("cluster")
    new_labels = {}
    for step in results["restarts"]:
        new_labels.setdefault(step["server"], step["new"])  # the first new process of each instance
    checks = [
        ("0 non-2xx responses (wrk)", wrk["non_2xx_3xx"] == 0
         and all(200 <= code < 300 for code in wrk["statuses"]),
         "%s non-2xx of %s requests" % (thousands(sum(n for c, n in wrk["statuses"].items() if not 200 <= c < 300)
                                                  if wrk["statuses"] else wrk["non_2xx_3xx"]),
                                         thousands(wrk["requests"]))),
        ("0 socket errors (wrk)", sum(wrk["socket_errors"].values()) == 0,
         ", ".join("%s %d" % kv for kv in wrk["socket_errors"].items())),
    ]
    if browser is not None:
        saw = browser["values_by_process"]
        checks.append(("the browser never gives up (closed false)", browser["closed"] is False
                       and not any(2 in (s or []) for s in browser["observed_states"]),
                       "`closed` %s; readyState %s" % (str(browser["closed"]).lower(),
                                                        " ".join(str(x) for x in browser["page_states"] or []))))
        if cluster is None:
            checks.append(("the browser sees values from both new instances (%s)" % ", ".join(new_labels.values()),
                           all(saw.get(label, 0) > 0 for label in new_labels.values()),
                           by_process(saw)))
    elif cluster is None:
        checks.append(("the browser never gives up and sees both new instances", False, "not run (--no-browser)"))
    else:
        checks.append(("the browser never gives up", False, "not run (--no-browser)"))
    if cluster is not None:
        checks.extend(cluster_checks(results))
    polls = results["long_polls"]
    sse = results["sse_client"]
    supporting = [
        ("every SIGTERM ends with status 143 and the bye as last line",
         all(s["exit_status"] == SIGTERM_STATUS and s["bye_last"] for s in results["restarts"]),
         ", ".join("%s %d" % (s["old"], s["exit_status"]) for s in results["restarts"])),
        ("HAProxy marks a leaving instance DOWN before its drain delay ends",
         all(s["down_after_s"] is not None and s["down_after_s"] < run["drain_seconds"]
             for s in results["restarts"]),
         ", ".join("%s s" % fmt(s["down_after_s"]) for s in results["restarts"]) + " after SIGTERM")
        if run["proxy"] != "nginx" else
        ("nginx answered no request with an error of its own (every failed attempt passed on)",
         results["nginx"]["answered_5xx"] == 0,
         "%d requests passed on to another instance; %d answered 5xx"
         % (results["nginx"]["retried"], results["nginx"]["answered_5xx"])),
        ("long-polls: only 200 or 204, no error",
         not polls["errors"] and all(k in ("200", "204") for k in polls["statuses"]),
         "%s; %d errors" % (counts(polls["statuses"]), len(polls["errors"]))),
        ("the SSE client never gives up", sse["gave_up"] is None, sse["gave_up"] or ""),
    ]
    if cluster is not None:
        supporting.extend(cluster_supporting(results))
    return checks, supporting


def cluster_checks(results):
    """The targets of cluster mode, on the cluster's history and against it."""
    c = results["cluster"]
    gaps = c["gaps"]
    over = gaps["over_bound"]
    clients = c["clients"]
    processes = [p for p in results["processes"] if "cluster" in p]
    return [
        ("no gap between consecutive values longer than the period plus %d ms (%d ms), in the whole history up to "
         "the teardown" % (HANDOVER_SLACK_MS, c["bound_ms"]),
         c["entries"] > 0 and not over,
         "longest %s ms of %s gaps (p50 %s, p99 %s ms)%s"
         % (fmt(gaps["max_ms"]), thousands(gaps["count"]), fmt(gaps["p50_ms"]), fmt(gaps["p99_ms"]),
            "; over the bound: " + ", ".join("%d ms before index %d" % (g["ms"], g["index"]) for g in over)
            if over else "")),
        ("no duplicate index, no id going backwards (the history)",
         c["entries"] > 0 and not c["duplicate_indexes"] and not c["ids_backwards"],
         "%s values, index %s to %s; %d duplicate indexes, %d ids backwards, %d index steps other than +1"
         % (thousands(c["entries"]), c["first_index"], c["last_index"], len(c["duplicate_indexes"]),
            len(c["ids_backwards"]), len(c["index_steps"]))),
        ("one sequence: every stream client's values are the history's over the range it covered, each once and in "
         "order, across its reconnects",
         all(v["ok"] for v in clients.values()),
         "; ".join("%s %s" % (name, "yes" if v["ok"] else "**no** (%s)" % client_faults(v))
                   for name, v in clients.items() if not name.startswith("tap "))
         + "; %d direct streams %s" % (sum(1 for n in clients if n.startswith("tap ")),
                                       "yes" if all(v["ok"] for n, v in clients.items() if n.startswith("tap "))
                                       else "**not all**: " + ", ".join(n for n, v in clients.items()
                                                                        if n.startswith("tap ") and not v["ok"]))),
        ("each process's state file holds the last value it received (its last `Received:` line)",
         bool(processes) and all(p["cluster"]["state_matches"] for p in processes),
         ", ".join("%s %s" % (p["label"], "yes" if p["cluster"]["state_matches"] else
                              "**no** (received %s, file %s)" % (p["cluster"]["last_received"],
                                                                 p["cluster"]["state_value"]))
                   for p in processes)),
    ]


def cluster_supporting(results):
    c = results["cluster"]
    processes = [p for p in results["processes"] if "cluster" in p]
    polls = c["long_polls"]
    # Restarted processes have a state file to restore; the first ones start with none
    probed = [p for p in processes if (p["cluster"].get("start_probe") or {}).get("answers")
              and not re.fullmatch(r"[a-z]+1", p["label"])]
    told = {"SSE client": results["sse_client"]["shutdown_events"]}
    if results.get("browser"):
        told["Chromium"] = results["browser"]["page_events"].get("shutdown", 0)
    return [
        ("every long-poll answer is the history's value with its id, index and emittedAt", polls["ok"],
         "%s answers; %d not in the history, %d differing" % (thousands(polls["values"]), len(polls["not_in_history"]),
                                                             polls["differing_count"])),
        ("each process's `Received:` lines are one run of the history's values, in order",
         all(p["cluster"]["received_in_order"] for p in processes),
         ", ".join("%s %d" % (p["label"], p["cluster"]["received"]) for p in processes)),
        ("the stream clients were told to go and resumed on another instance",
         all(n > 0 for n in told.values()),
         ", ".join("%s %d `shutdown` event%s" % (name, n, "" if n == 1 else "s") for name, n in told.items())),
    ] + ([
        ("no new process answered the value restored from its state file while Redis was up (direct "
         "`GET /sequence/last` from its port opening)",
         all(not p["cluster"]["start_probe"]["restored"] for p in probed),
         ", ".join("%s %s" % (p["label"], probe_words(p["cluster"]["start_probe"])) for p in probed)
         + ("; through the proxy, wrk got %s restored answers" % thousands(results["wrk"]["restored"])
            if results["wrk"].get("restored") is not None else "")),
    ] if probed else [])


def probe_words(probe):
    if not probe or not probe.get("answers"):
        return "-"
    if probe["restored"]:
        return "**%d restored answers in its first %d ms**, then live%s" % (
            probe["restored"], probe["restored_for_ms"],
            " (%d after `/readyz` 200)" % probe["restored_after_ready"] if probe["restored_after_ready"] else "")
    if probe.get("first_live_after_first_answer_ms") == 0:
        return "live from the first answer"
    return "%s, then live" % ", ".join("%s %d" % kv for kv in sorted(probe["statuses"].items()) if kv[0] != "200")


def client_faults(v):
    faults = []
    for key, word in [("missing", "missing"), ("duplicates", "duplicates"), ("backwards", "backwards"),
                      ("differing_count", "differing"), ("emitted_at_not_id", "emittedAt not the id")]:
        if v.get(key):
            faults.append("%d %s" % (v[key], word))
    if v.get("not_in_history"):
        faults.append("%d not in the history" % len(v["not_in_history"]))
    if not v.get("values"):
        faults.append("no values")
    return ", ".join(faults) or "out of order"


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": subprocess.run(["nproc"], stdout=subprocess.PIPE, text=True).stdout.strip(),
            "cpu": model, "kernel": platform.release()}


def version(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def print_summary(results, checks, supporting):
    w = results["wrk"]
    print("")
    print("wrk: %d requests in %.1f s (%.0f req/s), non-2xx %d, socket errors %s, statuses %s, p99 %s ms, %s restored"
          % (w["requests"], w["seconds"], w["rps"], w["non_2xx_3xx"], w["socket_errors"], w["statuses"],
             w["latency_ms"].get("99%"), w.get("restored")))
    p = results["long_polls"]
    print("long-polls: %s, errors %d" % (p["statuses"], len(p["errors"])))
    s = results["sse_client"]
    print("SSE client: %d values, %d shutdown events, %d reconnects, gave up: %s, by process %s, ids %s"
          % (s["values"], s["shutdown_events"], s["reconnects"], s["gave_up"], s["values_by_process"], s["ids"]))
    b = results.get("browser")
    if b:
        print("browser (%s): %d values, events %s, closed %s, by process %s"
              % (b["mode"], b["page_values"], b["page_events"], b["closed"], b["values_by_process"]))
    if "haproxy" in results:
        h = results["haproxy"]
        print("HAProxy: %s; abnormal log lines %d" % (h["servers"]["BACKEND"], h["abnormal_log_lines"]))
    else:
        n = results["nginx"]
        print("nginx: %d requests passed on, %d answered 5xx, upstream errors %s, per restart %s"
              % (n["retried"], n["answered_5xx"], n["error_kinds"], n["per_restart"]))
    for step in results["restarts"]:
        print("restart %s -> %s: DOWN after %s s, exit after %s s (%d), ready %s s after start, UP %s s after ready"
              % (step["old"], step["new"], step.get("first_failure_after_s", step["down_after_s"]),
                 step["exit_after_s"], step["exit_status"],
                 step["ready_after_start_s"], step["up_after_ready_s"]))
    c = results.get("cluster")
    if c:
        print("history: %d values, index %s to %s; gaps p50 %s, p99 %s, max %s ms (bound %d ms); leaders %s"
              % (c["entries"], c["first_index"], c["last_index"], c["gaps"]["p50_ms"], c["gaps"]["p99_ms"],
                 c["gaps"]["max_ms"], c["bound_ms"],
                 ", ".join("%s %s-%s" % (x["process"], x["first_index"], x["last_index"]) for x in c["leaders"])))
        for gap in c["gaps"]["over_bound"]:
            print("  gap of %d ms before index %d, leader %s, next gap %s ms; leader's JVM paused: %s; machine: %s; %s"
                  % (gap["ms"], gap["index"], gap.get("leader"), gap.get("next_ms"),
                     pauses_words(gap.get("leader_pauses")), machine_words(gap.get("machine")),
                     "; ".join(gap.get("during", []))))
        for step in c["restarts"]:
            print("restart %s: %s; handover %s; longest gap until %s was ready %s ms"
                  % (step["old"], step["handover"], step.get("handover_gap"), step["new"],
                     step["longest_gap_until_ready_ms"]))
        for name, v in c["clients"].items():
            print("%s: %d values, %s" % (name, v["values"], "as the history" if v["ok"] else client_faults(v)))
        for p in results["processes"]:
            k = p.get("cluster")
            if k:
                print("%s: received %d, last %s, state file %s (id %s), warnings %d"
                      % (p["label"], k["received"], k["last_received"], k["state_value"], k["state_id"],
                         len(k["warnings"])))
    print("")
    for name, ok, detail in checks + supporting:
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))


def write_doc(results, checks, supporting):
    """Writes the local run behind HAProxy: docs/rolling-restart.md but for the parts other runs write."""
    run = results["run"]
    w = results["wrk"]
    m = run["machine"]
    met = all(ok for _, ok, _ in checks)
    lines = []
    add = lines.append
    add("# Rolling restart behind HAProxy")
    add("")
    add("For operators who want to see what clients go through while the instances behind a proxy are restarted")
    add("one after the other, and for developers who change the shutdown or the proxy files: the last run of each")
    add("scenario, with its command and machine, written by `bench/rolling_restart.py` (`bench/rolling-restart.sh`;")
    add("`bench/rolling-restart.sh --report` writes the page again from `bench/rolling-restart-results/`). Why the")
    add("proxies are configured as they are: [record 22](decisions/0022-take-a-leaving-instance-out-at-the-proxy-before-its-port-closes.md).")
    add("")
    add("Two instances of graceful-sequence behind")
    add("HAProxy (`deploy/haproxy/haproxy.cfg`, with this run's ports), restarted one after the other while")
    add("keep-alive load, long-polls, an SSE client and a headless browser go through HAProxy.")
    add("`docs/operations.md` (\"Load balancer\") explains the configuration; `bench/README.md` how to run it.")
    if run["config_servers"] > len(run["servers"]):
        add("The file lists %s servers, for cluster mode; this run uses the first %s (the copy leaves the others out)."
            % (words(run["config_servers"]), words(len(run["servers"]))))
    add("The same scenario behind nginx (`--proxy nginx`) is further down: [Behind nginx](#behind-nginx); and in")
    add("cluster mode, three instances serving one sequence through Redis (`--cluster`):")
    add("[Cluster mode behind HAProxy](#cluster-mode-behind-haproxy), [behind nginx](#cluster-mode-behind-nginx).")
    add("")
    add("- Date: %s" % run["date"])
    add("- Machine: %s CPUs (`nproc`), %s, Linux %s; shared with other builds" % (m["nproc"], m["cpu"], m["kernel"]))
    add("- Software: %s; %s; %s; Chromium %s and its chromedriver; Python %s"
        % (run["software"]["proxy"], run["software"]["wrk"], run["software"]["java"],
           (results.get("browser") or {}).get("version", "not run"), run["software"]["python"]))
    add("- Command: `%s`" % run["command"])
    add("- Instances: `%s`" % run["instance_argv"])
    add("- Restarts, in this order: %s; %s s after each new instance is UP in HAProxy before the next"
        % (" then ".join(run["restarts"]), fmt(run["settle"])))
    add("")
    add("## Verdict: target %s" % ("met" if met else "NOT met"))
    add("")
    add("| target | result | |")
    add("|---|---|---|")
    for name, ok, detail in checks:
        add("| %s | %s | %s |" % (name, "met" if ok else "**not met**", detail))
    for name, ok, detail in supporting:
        add("| %s | %s | %s |" % (name, "yes" if ok else "**no**", detail))
    add("")
    add("## Load through HAProxy")
    add("")
    add("| figure | value |")
    add("|---|---|")
    add("| wrk | `%s`, stopped with SIGINT after %.1f s (`statuses.lua` counts every status) |"
        % (w["argv"], w["seconds"]))
    add("| requests | %s (%s a second) |" % (thousands(w["requests"]), thousands(round(w["rps"]))))
    add("| statuses | %s |" % ", ".join("%d: %s" % (c, thousands(n)) for c, n in sorted(w["statuses"].items())))
    add("| non-2xx (wrk's count) | %d |" % w["non_2xx_3xx"])
    add("| socket errors | connect %(connect)d, read %(read)d, write %(write)d, timeout %(timeout)d |"
        % w["socket_errors"])
    add("| latency p50 / p90 / p99 / max | %s / %s / %s / %s ms |"
        % tuple(fmt(x) for x in [w["latency_ms"]["50%"], w["latency_ms"]["90%"], w["latency_ms"]["99%"],
                                  w["latency_max_ms"]]))
    p = results["long_polls"]
    add("| long-polls (`/sequence/next?timeout=60s`, %d clients, back to back) | statuses %s; errors %d; longest wait %s s |"
        % (p["clients"], counts(p["statuses"]), len(p["errors"]), p["longest_s"]))
    h = results["haproxy"]
    be = h["servers"]["BACKEND"]
    add("| HAProxy backend | %s sessions; 5xx %d; connection errors %d; response errors %d; retries %d; redispatches %d |"
        % (thousands(be["stot"]), be["hrsp_5xx"], be["econ"], be["eresp"], be["wretr"], be["wredis"]))
    add("| HAProxy log lines for failed requests (`option dontlog-normal`) | %d |" % h["abnormal_log_lines"])
    add("")
    add("## The restarts")
    add("")
    add("Times in seconds. DOWN and UP are what HAProxy's checks concluded (from its stats, polled every 100 ms); "
        "the port of a leaving instance closed at the end of its drain delay (%s); out of rotation is DOWN to UP."
        % run["drain_delay"])
    add("")
    add("| instance | SIGTERM to DOWN | SIGTERM to exit | exit status, last line | new process | start to /readyz 200 | ready to UP | out of rotation |")
    add("|---|---|---|---|---|---|---|---|")
    for s in results["restarts"]:
        add("| %s (pid %d) | %s | %s | %d, %s | %s (pid %d) | %s | %s | %s |"
            % (s["old"], s["old_pid"], fmt(s["down_after_s"]), fmt(s["exit_after_s"]), s["exit_status"],
               "bye" if s["bye_last"] else "**not the bye**", s["new"], s["new_pid"], fmt(s["ready_after_start_s"]),
               fmt(s["up_after_ready_s"]), fmt(s["out_of_rotation_s"])))
    add("")
    add("## What the stream clients saw")
    add("")
    add("Values are attributed to the process that emitted them by matching `emittedAt`, `index` and `value`")
    add("with what each process sent on a direct stream of its own. The browser's values come from the page's own")
    add("`EventSource`, recorded with the full event data by a script that Chromium runs before the page's own")
    add("(`Page.addScriptToEvaluateOnNewDocument`), so the page is not changed for the measurement. A stream client")
    add("follows one instance at a time and moves only when that instance shuts down, which is why the restarts are")
    add("a, b, then a again: after b's restart every client is on a2, and only a2's restart sends them to b2, so a")
    add("client connected from the start sees both instances the rolling restart started.")
    add("")
    sse = results["sse_client"]
    b = results.get("browser")
    # Results kept from before the load tool have no "client": theirs was Python's
    for line in stream_client_rows(sse, b, "SSE client (%s, EventSource rules: `retry:`, `Last-Event-ID`)"
                                   % sse.get("client", "Python")):
        add(line)
    if b:
        add("")
        add("The browser's EventSource went through readyState %s (0 connecting, 1 open, 2 closed); "
            "its page counted %s." % (" ".join(str(x) for x in b["page_states"] or []), counts(b["page_events"])))
    add("")
    add("From each `shutdown` event to the next value: SSE client %s s (it waited the `retry:` it was sent: %s ms)%s."
        % (", ".join(fmt(x) for x in sse["seconds_without_values"]), ", ".join(str(x) for x in sse["waited_ms"]),
           "; browser %s s" % ", ".join(fmt(x) for x in b["seconds_without_values"]) if b else ""))
    ids = results["ids_per_server"]
    add("")
    add("Ids across the restarts of one instance, from the direct streams: %s."
        % "; ".join("%s (%d processes) %s" % (name, len(v["id_ranges"]), "increasing" if v["increasing_across_restarts"]
                                               else "**not increasing**") for name, v in ids.items()))
    add("")
    add("## Processes")
    add("")
    add("| process | pid | instance | ready after | exit status |")
    add("|---|---|---|---|---|")
    for p in results["processes"]:
        add("| %s | %d | %s | %s s | %s |" % (p["label"], p["pid"], p["server"], fmt(p.get("ready_s")),
                                             "%s%s" % (p.get("exit_status", "-"), "" if p.get("bye_last") else
                                                       ", **not the bye last**")))
    add("")
    write_part(None, "\n".join(lines))


def doc_parts(text):
    """The parts of the doc that runs write apart (markers included), by key, and the rest."""
    parts = {}
    for key, begin, end in PARTS:
        start, stop = text.find(begin), text.find(end)
        if start >= 0 and stop > start:
            parts[key] = text[start:stop + len(end)]
            text = text.replace(parts[key], "")
    return parts, text.rstrip("\n")


def write_part(key, content):
    """Writes one part of docs/rolling-restart.md (key None: the rest, which the local run behind HAProxy
    writes), keeping the others as they are, in the order of PARTS after the rest."""
    try:
        with open(DOC) as f:
            text = f.read()
    except OSError:
        text = "# Rolling restart\n"
    parts, rest = doc_parts(text)
    if key is None:
        rest = content.rstrip("\n")
    else:
        parts[key] = content.rstrip("\n")
    with open(DOC, "w") as f:
        f.write("\n\n".join([rest] + [parts[k] for k, _, _ in PARTS if k in parts]) + "\n")
    log("wrote %s of %s" % ("the %s part" % key if key else "the local HAProxy run", os.path.relpath(DOC, ROOT)))


def write_nginx_doc(results, checks, supporting):
    """Writes the local run behind nginx into its own part of docs/rolling-restart.md, leaving the rest."""
    run = results["run"]
    w = results["wrk"]
    n = results["nginx"]
    met = all(ok for _, ok, _ in checks)
    lines = [NGINX_BEGIN]
    add = lines.append
    add("## Behind nginx")
    add("")
    add("The same scenario with `--proxy nginx`: nginx (`deploy/nginx/nginx.conf`, with this run's ports) in front")
    add("of the two instances instead of HAProxy, the same load and clients, the same restarts. nginx has no")
    add("health checks (open source nginx: only NGINX Plus has active ones): it learns that an instance is")
    add("leaving only when a request to it fails, and passes that GET on to the other instance")
    add("(`proxy_next_upstream error timeout http_503`). Without a stats page to say when an instance is back,")
    add("the script waits, after a new instance is ready, for the first `GET /sequence/last` that nginx sends it")
    add("(its own request counter), then %s s before the next restart. `docs/operations.md` (\"nginx\") explains"
        % fmt(run["settle"]))
    add("the file.")
    add("")
    add("- Date: %s" % run["date"])
    add("- Software: %s; the rest as above" % run["software"]["proxy"])
    add("- Command: `%s`" % run["command"])
    add("- Instances: as above (`--shutdown.drain-delay=%s --sequence.period=%s`)" % (run["drain_delay"], run["period"]))
    add("- Restarts, in this order: %s" % " then ".join(run["restarts"]))
    add("")
    add("### Verdict: target %s" % ("met" if met else "NOT met"))
    add("")
    add("| target | result | |")
    add("|---|---|---|")
    for name, ok, detail in checks:
        add("| %s | %s | %s |" % (name, "met" if ok else "**not met**", detail))
    for name, ok, detail in supporting:
        add("| %s | %s | %s |" % (name, "yes" if ok else "**no**", detail))
    add("")
    add("### Load through nginx")
    add("")
    add("| figure | value |")
    add("|---|---|")
    add("| wrk | `%s`, stopped with SIGINT after %.1f s |" % (w["argv"], w["seconds"]))
    add("| requests | %s (%s a second) |" % (thousands(w["requests"]), thousands(round(w["rps"]))))
    add("| statuses | %s |" % ", ".join("%d: %s" % (c, thousands(k)) for c, k in sorted(w["statuses"].items())))
    add("| non-2xx (wrk's count) | %d |" % w["non_2xx_3xx"])
    add("| socket errors | connect %(connect)d, read %(read)d, write %(write)d, timeout %(timeout)d |"
        % w["socket_errors"])
    add("| latency p50 / p90 / p99 / max | %s / %s / %s / %s ms |"
        % tuple(fmt(x) for x in [w["latency_ms"]["50%"], w["latency_ms"]["90%"], w["latency_ms"]["99%"],
                                  w["latency_max_ms"]]))
    p = results["long_polls"]
    add("| long-polls (`/sequence/next?timeout=60s`, %d clients, back to back) | statuses %s; errors %d; longest wait %s s |"
        % (p["clients"], counts(p["statuses"]), len(p["errors"]), p["longest_s"]))
    add("| requests nginx passed on to the other instance (access log: `$upstream_status` lists two attempts) | %s%s |"
        % (thousands(n["retried"]), (" (" + ", ".join("`%s` %d" % kv for kv in sorted(n["retried_statuses"].items())) + ")")
           if n["retried_statuses"] else ""))
    add("| requests nginx answered 500 or more | %d |" % n["answered_5xx"])
    add("| upstream errors in nginx's error log, by kind | %s |" % counts(n["error_kinds"]))
    add("")
    add("### The restarts")
    add("")
    add("Times in seconds. There is no DOWN or UP in nginx: the first failed attempt on a leaving instance is")
    add("nginx's first error log line about it after the SIGTERM (when its port had closed, at the end of the")
    add("drain delay, %s); back is the first request nginx sent the new process." % run["drain_delay"])
    add("")
    add("| instance | SIGTERM to first failed attempt | SIGTERM to exit | exit status, last line | new process | start to /readyz 200 | ready to back | first failure to back | requests passed on |")
    add("|---|---|---|---|---|---|---|---|---|")
    for step, counted in zip(results["restarts"], n["per_restart"]):
        add("| %s (pid %d) | %s | %s | %d, %s | %s (pid %d) | %s | %s | %s | %d |"
            % (step["old"], step["old_pid"], fmt(step["first_failure_after_s"]), fmt(step["exit_after_s"]),
               step["exit_status"], "bye" if step["bye_last"] else "**not the bye**", step["new"], step["new_pid"],
               fmt(step["ready_after_start_s"]), fmt(step["up_after_ready_s"]), fmt(step["out_of_rotation_s"]),
               counted["retried"]))
    add("")
    add("### What the stream clients saw")
    add("")
    sse = results["sse_client"]
    b = results.get("browser")
    for line in stream_client_rows(sse, b, "SSE client"):
        add(line)
    ids = results["ids_per_server"]
    add("")
    add("Ids across the restarts of one instance, from the direct streams: %s."
        % "; ".join("%s (%d processes) %s" % (name, len(v["id_ranges"]), "increasing" if v["increasing_across_restarts"]
                                               else "**not increasing**") for name, v in ids.items()))
    add("")
    add(NGINX_END)
    write_part("nginx", "\n".join(lines))


def write_cluster_doc(results, checks, supporting):
    """Writes a cluster-mode run into its own part of docs/rolling-restart.md, leaving the rest."""
    run = results["run"]
    nginx = run["proxy"] == "nginx"
    proxy = "nginx" if nginx else "HAProxy"
    key = "cluster-nginx" if nginx else "cluster-haproxy"
    begin, end = next((b, e) for k, b, e in PARTS if k == key)
    c = results["cluster"]
    w = results["wrk"]
    m = run["machine"]
    met = all(ok for _, ok, _ in checks)
    lines = [begin]
    add = lines.append
    add("## Cluster mode behind %s" % proxy)
    add("")
    add("The same load and clients with `--cluster`: a redis-server of the run's own (a free loopback port, its own")
    add("directory, the append-only file on, no RDB snapshots) and %s instances in cluster mode on it, serving one"
        % words(len(run["servers"])))
    add("sequence, behind %s (`%s`, %s server lines, with this run's ports), each instance in a working"
        % (proxy, "deploy/nginx/nginx.conf" if nginx else "deploy/haproxy/haproxy.cfg",
           ("all %s" if len(run["servers"]) == run["config_servers"] else "the first %s") % words(len(run["servers"]))))
    add("directory of its own, so with a state file of its own, started and restarted one after the other. At its SIGTERM the")
    add("leader hands its lease over (shutdown step 2) and a follower produces the next value on time; every")
    add("instance keeps following until step 6. The history is the Redis stream `%s`, kept whole" % c["key"])
    add("(`--sequence.stream.replay=%d`) and read once every instance has exited; the run checks it, every stream"
        % run["replay"])
    add("client's values against it (the SSE client and the browser through %s, and a direct stream on each" % proxy)
    add("process), every long-poll answer, and each process's state file against its last `Received:` line.")
    add("")
    add("- Date: %s" % run["date"])
    add("- Machine: %s CPUs (`nproc`), %s, Linux %s; shared with other work" % (m["nproc"], m["cpu"], m["kernel"]))
    add("- Software: %s; %s; %s; %s; Chromium %s and its chromedriver; Python %s"
        % (run["software"]["proxy"], c["redis_version"].split(" sha=")[0], run["software"]["wrk"],
           run["software"]["java"], (results.get("browser") or {}).get("version", "not run"),
           run["software"]["python"]))
    add("- Command: `%s`" % run["command"])
    add("- Redis: `%s`" % run["redis_argv"])
    # Each process logs its safepoints to jvm-N.log in its instance's directory
    add("- Instances: `%s`" % re.sub(r"file=\S*/jvm-\d+\.log", "file=<its directory>/jvm-<N>.log",
                                    run["instance_argv"]))
    add("- Restarts, in this order: %s; %s s after each new instance is %s before the next"
        % (" then ".join(run["restarts"]), fmt(run["settle"]),
           "sent a request by nginx" if nginx else "UP in HAProxy"))
    add("")
    add("### Verdict: target %s" % ("met" if met else "NOT met"))
    add("")
    add("| target | result | |")
    add("|---|---|---|")
    for name, ok, detail in checks:
        add("| %s | %s | %s |" % (name, "met" if ok else "**not met**", detail))
    for name, ok, detail in supporting:
        add("| %s | %s | %s |" % (name, "yes" if ok else "**no**", detail))
    add("")
    add("### Load through %s" % proxy)
    add("")
    add("| figure | value |")
    add("|---|---|")
    add("| wrk | `%s`, stopped with SIGINT after %.1f s (`statuses.lua` counts every status) |"
        % (w["argv"], w["seconds"]))
    add("| requests | %s (%s a second) |" % (thousands(w["requests"]), thousands(round(w["rps"]))))
    add("| statuses | %s |" % ", ".join("%d: %s" % (code, thousands(n)) for code, n in sorted(w["statuses"].items())))
    add("| socket errors | connect %(connect)d, read %(read)d, write %(write)d, timeout %(timeout)d |"
        % w["socket_errors"])
    add("| answers with `\"source\":\"restored\"` (a value from a state file, not the cluster's) | %s |"
        % ("-" if w.get("restored") is None else thousands(w["restored"])))
    add("| latency p50 / p90 / p99 / max | %s / %s / %s / %s ms |"
        % tuple(fmt(x) for x in [w["latency_ms"]["50%"], w["latency_ms"]["90%"], w["latency_ms"]["99%"],
                                  w["latency_max_ms"]]))
    p = results["long_polls"]
    add("| long-polls (`/sequence/next?timeout=60s`, %d clients, back to back) | statuses %s; errors %d; longest wait %s s |"
        % (p["clients"], counts(p["statuses"]), len(p["errors"]), p["longest_s"]))
    if nginx:
        n = results["nginx"]
        add("| requests nginx passed on to another instance (`$upstream_status` lists two attempts) | %s%s |"
            % (thousands(n["retried"]), (" (" + ", ".join("`%s` %d" % kv for kv in sorted(n["retried_statuses"].items()))
                                        + ")") if n["retried_statuses"] else ""))
        add("| requests nginx answered 500 or more | %d |" % n["answered_5xx"])
        add("| upstream errors in nginx's error log, by kind | %s |" % counts(n["error_kinds"]))
    else:
        be = results["haproxy"]["servers"]["BACKEND"]
        add("| HAProxy backend | %s sessions; 5xx %d; connection errors %d; response errors %d; retries %d; redispatches %d |"
            % (thousands(be["stot"]), be["hrsp_5xx"], be["econ"], be["eresp"], be["wretr"], be["wredis"]))
        add("| HAProxy log lines for failed requests (`option dontlog-normal`) | %d |"
            % results["haproxy"]["abnormal_log_lines"])
    if c.get("machine"):
        add("| the machine over the run | %s |" % machine_words(c["machine"]))
    add("")
    add("### The restarts")
    add("")
    add("Times in seconds, gaps in ms. %s The handover, when the leaving instance led, is the gap from its last value"
        % ("First failure is nginx's first error log line about the leaving instance; back is the first request nginx"
           " sent the new process." if nginx else "DOWN and UP are what HAProxy's checks concluded."))
    add("to the next leader's first (by the `lease` of each value); the longest gap runs from the SIGTERM to the new")
    add("process's `/readyz` 200 (its JVM starts on the same two cores).")
    add("")
    add("| instance | led: handover to, gap | SIGTERM to %s | SIGTERM to exit | exit status, last line | new process | start to /readyz 200 | ready to %s | longest gap from the SIGTERM until ready |"
        % ("first failure" if nginx else "DOWN", "back" if nginx else "UP"))
    add("|---|---|---|---|---|---|---|---|---|")
    for step, figures in zip(results["restarts"], c["restarts"]):
        handover = figures.get("handover_gap")
        add("| %s (pid %d) | %s | %s | %s | %d, %s | %s (pid %d) | %s | %s | %s |"
            % (step["old"], step["old_pid"],
               ("yes: %s, %s" % (handover["to"], fmt(handover["ms"]))) if handover else
               ("yes" if figures["led"] else "no"),
               fmt(step.get("first_failure_after_s") if nginx else step["down_after_s"]), fmt(step["exit_after_s"]),
               step["exit_status"], "bye" if step["bye_last"] else "**not the bye**", step["new"], step["new_pid"],
               fmt(step["ready_after_start_s"]), fmt(step["up_after_ready_s"]),
               fmt(figures["longest_gap_until_ready_ms"])))
    add("")
    add("### The cluster's history")
    add("")
    g = c["gaps"]
    add("%s values, index %s to %s, every index once and every id after the one before (%d duplicate indexes, %d ids"
        % (thousands(c["entries"]), c["first_index"], c["last_index"], len(c["duplicate_indexes"]),
           len(c["ids_backwards"])))
    add("backwards, %d index steps other than +1). Gaps between consecutive values up to the teardown (%s gaps; the"
        % (len(c["index_steps"]), thousands(g["count"])))
    add("teardown stops every instance at once, so nobody takes a lead handed over then; %d values came after it):"
        % c["entries_after_teardown"])
    add("p50 %s ms, p99 %s ms, longest %s ms, against a bound of %d ms (the period, %d ms, plus %d ms)."
        % (fmt(g["p50_ms"]), fmt(g["p99_ms"]), fmt(g["max_ms"]), c["bound_ms"], c["period_ms"], HANDOVER_SLACK_MS))
    add("")
    if g["over_bound"]:
        add("The gaps over the bound, with what the run did around them (ms from the value before the gap), the gap")
        add("after the late value (the leader produces at a fixed rate: when only the one value was late, the next")
        add("comes on the schedule and the two gaps add up to two periods), the safepoints of the leader's JVM during")
        add("the gap (`-Xlog:safepoint`; a GC pause is one), and the machine during the gap (`/proc/stat`: busy cores,")
        add("of which other tenants'; `/proc/pressure/cpu`: the share of the time some runnable thread waited for a CPU):")
        add("")
        add("| gap | before index | leader | gap after it | the leader's JVM paused | the machine | what happened |")
        add("|---|---|---|---|---|---|---|")
        for gap in g["over_bound"]:
            add("| %d ms | %d | %s | %s ms | %s | %s | %s |"
                % (gap["ms"], gap["index"], gap.get("leader") or "?", fmt(gap.get("next_ms")),
                   pauses_words(gap.get("leader_pauses")), machine_words(gap.get("machine")),
                   "; ".join(gap.get("during") or []) or "no restart, start or lead change"))
        add("")
    add("Leaders, from the `lease` of each value (the fencing token) and the `Took the lead` lines of the logs:")
    add("")
    add("| leader | indexes | values |")
    add("|---|---|---|")
    for leader in c["leaders"]:
        add("| %s | %s to %s | %s |" % (leader["process"] or "?", leader["first_index"], leader["last_index"],
                                       thousands(leader["values"])))
    add("")
    add("### What the stream clients saw")
    add("")
    add("Each client's values against the history over the indexes it covered, across its reconnects; a direct stream")
    add("follows one process from its readiness to its shutdown (the first value a new process serves may be the one")
    add("it restored, with index 0, checked by id and value).")
    add("")
    add("| client | values | shutdown events | reconnects | gave up | indexes covered | the history's values there | missing | duplicates | out of order | differing | restored |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    sse = results["sse_client"]
    b = results.get("browser")
    for name, v in c["clients"].items():
        if name == "SSE client":
            told, again, gave_up = sse["shutdown_events"], sse["reconnects"], "no" if sse["gave_up"] is None else sse["gave_up"]
        elif name == "Chromium" and b:
            told, again = b["page_events"].get("shutdown", 0), max(0, b["observed_opens"] - 1)
            gave_up = "**yes**" if b["closed"] else "no (`closed` false)"
            name = "Chromium, %s" % b["mode"]
        else:
            told, again, gave_up = "-", "-", "-"
            name = "direct stream, %s" % name[len("tap "):]
        add("| %s | %d | %s | %s | %s | %s to %s | %d | %d | %d | %d | %d | %d |"
            % (name, v["values"], told, again, gave_up, v.get("first_index"), v.get("last_index"), v.get("expected", 0),
               v.get("missing", 0), v.get("duplicates", 0), v.get("backwards", 0), v["differing_count"],
               v["restored"]))
    add("")
    add("### Processes and their state files")
    add("")
    add("The state file is read as each process exits, before the next process in its directory starts; its")
    add("modification time is the value's `emittedAt`, so the id of the value it holds.")
    add("")
    add("`GET /sequence/last` from its port opening is a probe that asks the new process directly every 20 ms")
    add("from the moment its port opens until a second after its first live answer: what a client gets there")
    add("when a proxy sends it one at once.")
    add("")
    add("| process | pid | instance | ready after | exit status | values received | last `Received:` | state file | its id in the history | leads taken (positions) | handover at its SIGTERM | `GET /sequence/last` from its port opening | WARN/ERROR lines |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for proc in results["processes"]:
        k = proc.get("cluster")
        if not k:
            continue
        add("| %s | %d | %s | %s s | %s | %s | %s | %s | %s | %s | %s | %s | %d |"
            % (proc["label"], proc["pid"], proc["server"], fmt(proc.get("ready_s")),
               "%s%s" % (proc.get("exit_status", "-"), "" if proc.get("bye_last") else ", **not the bye last**"),
               thousands(k["received"]), k["last_received"], (k["state_text"] or "none").strip(),
               "index %s" % k["state_index"] if k["state_index"] is not None else "**not found**",
               ", ".join(str(x) for x in k["leads"]) or "none", handover_words(k["handover"]),
               probe_words(k.get("start_probe")), len(k["warnings"])))
    warnings = [(proc["label"], x) for proc in results["processes"] for x in (proc.get("cluster") or {}).get("warnings", [])]
    if warnings:
        add("")
        add("The instances' WARN and ERROR lines:")
        add("")
        for label, x in warnings[:20]:
            add("- %s, %s: %s" % (label, x["level"], x["message"]))
    add("")
    add(end)
    write_part(key, "\n".join(lines))


def pauses_words(pauses):
    if not pauses:
        return "-"
    if not pauses["count"]:
        return "not"
    if pauses["total_ms"] < 1:
        return "%s, under 1 ms" % ("one safepoint" if pauses["count"] == 1 else "%d safepoints" % pauses["count"])
    return "%s, %s ms: %s ms at the safepoint, %s ms waiting for its threads to reach it" % (
        "one safepoint" if pauses["count"] == 1 else "%d safepoints" % pauses["count"], fmt(pauses["total_ms"]),
        fmt(pauses.get("at_safepoint_ms")), fmt(pauses.get("reaching_ms")))


def words(n):
    return {2: "two", 3: "three", 4: "four"}.get(n, str(n))


def machine_words(m):
    if not m:
        return "-"
    return ("%s of %s cores busy (others %s); CPU wait %d%%; up to %d runnable threads"
            % (fmt(m["busy_cores"]), os.cpu_count() or "?", fmt(m.get("others_cores")),
               round(100 * (m.get("cpu_stall") or 0)), m["max_runnable"]))


def handover_words(message):
    if not message:
        return "-"
    if message.startswith("Handed the lead"):
        return "handed over"
    if message.startswith("Nothing to hand over to"):
        return "alone, went on producing"
    if message.startswith("Nothing to hand over"):
        return "did not lead"
    return message


def run_facts(scenario, command):
    """What the doc says about the run besides its results, so that --report can write it again."""
    a = scenario.args
    instance = scenario.instances[0]
    argv = " ".join(instance.argv()).replace(ROOT + "/", "").replace("--server.port=%d" % instance.port,
                                                                   "--server.port=$PORT")
    facts = {
        "command": command,
        "date": subprocess.run(["date", "-u"], stdout=subprocess.PIPE, text=True).stdout.strip(),
        "machine": machine(), "proxy": a.proxy, "cluster": a.cluster, "servers": scenario.server_names,
        "config_servers": len(nginx_servers(scenario.config_text) if scenario.nginx
                              else server_names(scenario.config_text)),
        "drain_delay": a.drain_delay, "drain_seconds": scenario.drain_seconds, "period": a.period,
        "restarts": a.restarts.split(","), "settle": a.settle, "replay": a.replay,
        "instance_argv": argv, "run_directory": os.path.relpath(scenario.directory, ROOT),
        "software": {
            "proxy": (version([a.nginx, "-v"]).replace("nginx version: ", "") if scenario.nginx
                      else " ".join(version([a.haproxy, "-v"]).split()[:3])),
            "wrk": " ".join(version(["wrk", "--version"]).split()[:2]), "java": version([a.java, "-version"]),
            "python": platform.python_version()}}
    if scenario.redis is not None:
        r = scenario.redis
        facts["instance_argv"] = argv.replace(r.url(), "redis://127.0.0.1:$REDIS")
        facts["redis_argv"] = " ".join("''" if w == "" else w for w in r.argv()).replace(
            "--port %d" % r.port, "--port $REDIS").replace(ROOT + "/", "")
    return facts


def stream_client_rows(sse, b, sse_label):
    """The table of what the SSE client and, if it ran, the browser saw."""
    rows = ["| client | values | shutdown events | reconnects | gave up | values by process | values not newer than one already received | ids |",
            "|---|---|---|---|---|---|---|---|",
            "| %s | %d | %d | %d | %s | %s | %d | %d backwards within an instance, %d duplicates |"
            % (sse_label, sse["values"], sse["shutdown_events"], sse["reconnects"],
               "no" if sse["gave_up"] is None else sse["gave_up"], by_process(sse["values_by_process"]),
               sse["not_newer_than_one_already_received"], sse["ids"]["backwards_within_an_instance"],
               sse["ids"]["duplicates"])]
    if b:
        rows.append("| Chromium, %s | %d | %d | %d | %s | %s | %d | %d backwards within an instance, %d duplicates |"
                    % (b["mode"], b["page_values"], b["page_events"].get("shutdown", 0), max(0, b["observed_opens"] - 1),
                       "**yes**" if b["closed"] else "no (`closed` false)", by_process(b["values_by_process"]),
                       b["not_newer_than_one_already_received"], b["ids"]["backwards_within_an_instance"],
                       b["ids"]["duplicates"]))
    return rows


def by_process(found):
    """In the order the processes started: a1, b1, a2, b2, a3."""
    def order(label):
        digits = label.lstrip("abcdefghijklmnopqrstuvwxyz")
        return (int(digits) if digits.isdigit() else 1 << 30, label)
    return ", ".join("%s %d" % (k, found[k]) for k in sorted(found, key=order)) or "none"


def counts(found):
    return ", ".join("%s: %s" % (k, thousands(v)) for k, v in sorted(found.items())) or "none"


def thousands(n):
    return "{:,}".format(n)


def fmt(x):
    if x is None:
        return "-"
    return ("%.2f" % x).rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", text)
    if not match:
        raise argparse.ArgumentTypeError("a duration such as 5s or 500ms")
    return float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jar", default=os.path.join(ROOT, "target", "graceful-sequence.jar"))
    parser.add_argument("--java", default=shutil.which("java") or "java")
    parser.add_argument("--jvm-args", default="", help="JVM options of every instance")
    parser.add_argument("--proxy", choices=["haproxy", "nginx"], default="haproxy",
                        help="what runs in front of the instances: HAProxy (deploy/haproxy/haproxy.cfg) or nginx "
                             "(deploy/nginx/nginx.conf)")
    parser.add_argument("--cluster", action="store_true",
                        help="cluster mode: a redis-server of the run's own and three instances serving one sequence "
                             "through it; the cluster's history is checked at the end")
    parser.add_argument("--instances", type=int,
                        help="how many instances, behind the first server lines of the proxy's file; default: 2, "
                             "or 3 with --cluster")
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    parser.add_argument("--redis-cli", default=shutil.which("redis-cli") or "/usr/bin/redis-cli")
    parser.add_argument("--replay", type=int, default=REPLAY_MAX,
                        help="sequence.stream.replay of the instances in cluster mode, which the cluster's history "
                             "keeps at least; the default keeps a whole run")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--load", default=os.path.join(HERE, "out", "load"),
                        help="the load tool, whose record is the SSE client and the direct streams (bench/build-load.sh "
                             "builds it)")
    parser.add_argument("--config", help="the proxy's configuration to render (ports replaced); default: "
                        "deploy/haproxy/haproxy.cfg, or deploy/nginx/nginx.conf with --proxy nginx")
    parser.add_argument("--drain-delay", default="5s")
    parser.add_argument("--period", default="500ms", help="sequence.period of the instances")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--long-polls", type=int, default=4)
    parser.add_argument("--restarts",
                        help="instances to restart, in order (server names of haproxy.cfg; with nginx, a, b, c are "
                             "its upstream servers in their order); default: a,b,a, or a,b,c with --cluster")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the first restart")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds after a new instance is UP in HAProxy (or sent a request by nginx) before the "
                             "next restart")
    parser.add_argument("--budget", type=int,
                        help="bound on the whole run, in seconds; default: 170, or 300 with --cluster")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/rolling-restart.md alone")
    parser.add_argument("--report", metavar="DIR", nargs="?", const="",
                        help="run nothing: write the doc again from the committed results of each part "
                             "(bench/rolling-restart-results/); with DIR, write the part of that run from "
                             "DIR/results.json (a run directory under bench/out/rolling-restart/), in cluster mode "
                             "after analysing the run's history and records again, and keep its results as the part's")
    args = parser.parse_args()
    seconds(args.drain_delay)
    if args.report == "":
        return report_kept()
    if args.report:
        with open(os.path.join(args.report, "results.json")) as f:
            results = json.load(f)
        run = results["run"]
        results["wrk"]["statuses"] = {int(k): v for k, v in results["wrk"]["statuses"].items()}
        if run["cluster"]:
            results["cluster"] = analyse_cluster(results, args.report)
        checks, supporting = verdict(results)
        results["verdict"] = [{"check": n, "ok": ok, "detail": d} for n, ok, d in checks + supporting]
        with open(os.path.join(args.report, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
        print_summary(results, checks, supporting)
        report_from(keep(results))
        return 0 if all(ok for _, ok, _ in checks + supporting) else 1
    if args.config is None:
        args.config = NGINX_CONFIG if args.proxy == "nginx" else CONFIG
    if args.instances is None:
        args.instances = 3 if args.cluster else 2
    if args.restarts is None:
        args.restarts = "a,b,c" if args.cluster else "a,b,a"
    if args.budget is None:
        args.budget = 300 if args.cluster else 170
    if not os.path.exists(args.load):
        parser.error("no load tool at %s (bench/build-load.sh builds it)" % args.load)

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    command = os.environ.get("ROLLING_RESTART_COMMAND") or " ".join(["python3", "bench/rolling_restart.py"] + sys.argv[1:])
    scenario = Scenario(args)
    scenario.drain_seconds = seconds(args.drain_delay)
    try:
        results = scenario.run()
    finally:
        cleanup()
    results["run"] = run_facts(scenario, command)
    checks, supporting = verdict(results)
    results["verdict"] = [{"check": n, "ok": ok, "detail": d} for n, ok, d in checks + supporting]
    with open(os.path.join(scenario.directory, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print_summary(results, checks, supporting)
    if not args.no_doc:
        report_from(keep(results))
    return 0 if all(ok for _, ok, _ in checks + supporting) else 1


def part_key(run):
    """The part of the doc a run writes: "haproxy" for the local run behind HAProxy, which writes the rest."""
    return ("cluster-" if run["cluster"] else "") + ("nginx" if run["proxy"] == "nginx" else "haproxy")


def keep(results):
    """Keeps a run's results as those of its part of the doc, for --report."""
    os.makedirs(KEPT_RESULTS, exist_ok=True)
    path = os.path.join(KEPT_RESULTS, part_key(results["run"]) + ".json")
    # Through JSON once, so that every key is a string and they sort
    kept = json.loads(json.dumps(results, default=str))
    with open(path, "w") as f:
        json.dump(kept, f, indent=1, sort_keys=True)
        f.write("\n")
    log("kept the results of the %s part in %s" % (part_key(results["run"]), os.path.relpath(path, ROOT)))
    return path


def report_from(path):
    """Writes the part of the doc of the kept results in path, as --report does, so that --report writes
    the same page."""
    with open(path) as f:
        results = json.load(f)
    results["wrk"]["statuses"] = {int(k): v for k, v in results["wrk"]["statuses"].items()}
    checks, supporting = verdict(results)
    write_report(results, checks, supporting)


def report_kept():
    """Writes every part of the doc whose results are kept; a part without them stays as it is."""
    written = 0
    for key in ["haproxy"] + [k for k, _, _ in PARTS]:
        path = os.path.join(KEPT_RESULTS, key + ".json")
        if not os.path.exists(path):
            log("no %s: the %s part of the doc stays as it is" % (os.path.relpath(path, ROOT), key))
            continue
        report_from(path)
        written += 1
    return 0 if written else 1


def write_report(results, checks, supporting):
    if results["run"]["cluster"]:
        write_cluster_doc(results, checks, supporting)
    elif results["run"]["proxy"] == "nginx":
        write_nginx_doc(results, checks, supporting)
    else:
        write_doc(results, checks, supporting)


if __name__ == "__main__":
    sys.exit(main())
