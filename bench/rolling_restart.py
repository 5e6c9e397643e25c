#!/usr/bin/env python3
"""Rolling restart of graceful-sequence behind HAProxy or nginx, under load, with real clients.

Started by bench/rolling-restart.sh, which installs what is missing first. Starts two
instances of target/graceful-sequence.jar and HAProxy in front of them (a copy of
deploy/haproxy/haproxy.cfg with this run's ports), or with --proxy nginx, nginx (a copy of
deploy/nginx/nginx.conf with this run's ports), then keeps these clients busy through the
proxy while it restarts the instances one after the other:

- wrk: keep-alive load on GET /sequence/last (statuses counted by a small Lua script);
- long-polls: a few clients that wait on GET /sequence/next?timeout=60s, again and again;
- an SSE client that follows /sequence/stream as a browser's EventSource does: it honours
  retry:, sends Last-Event-ID, reconnects after the stream ends, and gives up for good on an
  answer that is not a 200 event stream;
- headless Chromium, driven through chromedriver's W3C WebDriver HTTP API, on the live page
  at / (or, where / does not serve it yet, on a page of the same origin with an EventSource
  injected), recording what its EventSource saw.

Each restart: SIGTERM, wait for the exit (status 143, "I'm leaving, bye!" last), start a new
process on the same port in the same working directory (so it restores the state file),
wait for /readyz 200 and for HAProxy to see it UP (nginx, which has no health checks: for
the first GET /sequence/last that nginx sends it), then the next. To tell which process a
client's value came from, the script also follows every process's stream directly (a "tap",
not through HAProxy) and matches values by emittedAt, index and value.

Every process this script starts is ended by its PID when it ends, however it ends (what is
still alive gets SIGKILL, chromedriver's browser processes included); every load is bounded
in time; everything listens on 127.0.0.1 on free ports. Standard library only.
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

# The nginx run's part of the doc, kept as it is when the HAProxy run rewrites the rest
NGINX_BEGIN = "<!-- nginx run: written by bench/rolling_restart.py --proxy nginx -->"
NGINX_END = "<!-- end of the nginx run -->"

SIGTERM_STATUS = 143
BYE = "I'm leaving, bye!"

# Counts responses by status over all wrk threads; wrk's own summary counts only >= 400
WRK_SCRIPT = """\
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + n
      end
   end
   for status, n in pairs(total) do
      io.write(string.format("status %d %d\\n", status, n))
   end
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

    def __init__(self, name, port, directory, args):
        self.name = name
        self.port = port
        self.directory = directory
        self.args = args
        self.generation = 0
        self.proc = None
        self.label = None
        os.makedirs(directory, exist_ok=True)

    def argv(self):
        a = self.args
        return [a.java] + a.jvm_args.split() + [
            "-jar", a.jar, "--server.address=127.0.0.1", "--server.port=%d" % self.port,
            "--shutdown.drain-delay=%s" % a.drain_delay, "--sequence.period=%s" % a.period]

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


# -- HAProxy -------------------------------------------------------------------------------


def render_config(text, front_port, stats_port, server_ports):
    """deploy/haproxy/haproxy.cfg with this run's ports, every other line as it is."""
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
            if servers >= len(server_ports):
                raise RuntimeError("%s has more server lines than instances" % CONFIG)
            line = re.sub(r"^(\s*server\s+\S+\s+)\S+", r"\g<1>127.0.0.1:%d" % server_ports[servers], line)
            servers += 1
        out.append(line)
    if servers != len(server_ports):
        raise RuntimeError("%s has %d server lines in backend graceful-sequence, expected %d"
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
    ports = iter(server_ports)
    text, servers = re.subn(r"(?m)^(\s*server\s+)127\.0\.0\.1:\d+",
                            lambda m: "%s127.0.0.1:%d" % (m.group(1), next(ports)), text)
    if servers != len(server_ports):
        raise RuntimeError("%s has %d upstream server lines, expected %d" % (NGINX_CONFIG, servers, len(server_ports)))
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


class EventStream(threading.Thread):
    """GET /sequence/stream as a browser's EventSource reads it (the WHATWG processing model).

    follow=True: through HAProxy; reconnects after the stream ends or the connection fails,
    after the retry: the service sent (3 s before any), with Last-Event-ID; an answer that is
    not a 200 text/event-stream ends it for good, as it ends an EventSource.
    follow=False: a tap on one process, directly: one connection, no reconnect."""

    def __init__(self, port, name, follow, stopping):
        super().__init__(daemon=True, name=name)
        self.port = port
        self.follow = follow
        self.stopping = stopping
        self.retry_ms = 3000
        self.last_event_id = ""
        self.events = []  # dicts: t, connection, type, id, data
        self.connections = []  # dicts: t, status, content_type, last_event_id_sent, error, ended
        self.gave_up = None
        self.conn = None
        self.lock = threading.Lock()

    def close(self):
        with self.lock:
            conn = self.conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        while not self.stopping.is_set():
            record = {"t": time.monotonic(), "last_event_id_sent": self.last_event_id or None}
            self.connections.append(record)
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            with self.lock:
                self.conn = conn
            try:
                headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
                if self.last_event_id:
                    headers["Last-Event-ID"] = self.last_event_id
                conn.request("GET", "/sequence/stream", headers=headers)
                response = conn.getresponse()
                record["status"] = response.status
                record["content_type"] = response.getheader("Content-Type") or ""
                if response.status != 200 or not record["content_type"].startswith("text/event-stream"):
                    response.read()
                    self.gave_up = "answer %d %s" % (response.status, record["content_type"])
                    break
                self.read_events(response, len(self.connections))
                record["ended"] = "closed by the harness" if self.stopping.is_set() else "end of stream"
            except (OSError, http.client.HTTPException) as ex:
                if not self.stopping.is_set():
                    record["error"] = "%s: %s" % (type(ex).__name__, ex)
            finally:
                conn.close()
            if not self.follow or self.stopping.is_set():
                break
            record["then_waited_ms"] = self.retry_ms
            self.stopping.wait(self.retry_ms / 1000.0)

    def read_events(self, response, connection):
        kind, data = "", []
        while True:
            raw = response.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                if data:
                    self.events.append({"t": time.monotonic(), "connection": connection, "type": kind or "message",
                                        "id": self.last_event_id, "data": "\n".join(data)})
                kind, data = "", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
            elif field == "id" and "\0" not in value:
                self.last_event_id = value
            elif field == "retry" and value.isdigit():
                self.retry_ms = int(value)

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

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=75)
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/sequence/next?timeout=60s")
                response = conn.getresponse()
                response.read()
                self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException) as ex:
                self.errors.append("%s: %s" % (type(ex).__name__, ex))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=75)
            self.longest = max(self.longest, time.monotonic() - started)
        conn.close()


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
        return {
            "requests": int(number(r"(\d+) requests in")),
            "seconds": (lambda m: None if not m else float(m.group(1)) *
                        {"us": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2)])(
                re.search(r"requests in ([\d.]+)(us|ms|s|m|h),", output)),
            "rps": number(r"Requests/sec:\s+([\d.]+)"),
            "non_2xx_3xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
            "socket_errors": errors,
            "statuses": statuses,
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
        self.server_names = nginx_servers(self.config_text) if self.nginx else server_names(self.config_text)
        self.instances = [Instance(name, free_port(), os.path.join(self.directory, name), args)
                          for name in self.server_names]
        self.front_port = free_port()
        self.stats_port = free_port()
        self.processes = []  # every service process: label, pid, port, start, exit status, bye
        self.restarts = []
        self.taps = {}  # label -> EventStream
        self.browser = None
        self.deadline = None

    def check_time(self):
        if time.monotonic() > self.deadline:
            raise RuntimeError("the scenario ran past its budget of %d s" % self.args.budget)

    def start_instance(self, instance):
        proc = instance.start()
        self.processes.append({"label": instance.label, "pid": proc.pid, "port": instance.port,
                               "server": instance.name, "log": os.path.relpath(instance.log_path, ROOT)})
        return proc

    def record_ready(self, instance):
        ready = instance.wait_ready()
        self.process(instance.label)["ready_s"] = round(ready, 2)
        tap = EventStream(instance.port, "tap-" + instance.label, False, self.stopping)
        tap.start()
        self.taps[instance.label] = tap
        return ready

    def process(self, label):
        return next(p for p in self.processes if p["label"] == label)

    def run(self):
        a = self.args
        self.deadline = time.monotonic() + a.budget
        log("run directory %s" % os.path.relpath(self.directory, ROOT))
        for instance in self.instances:
            self.start_instance(instance)
        for instance in self.instances:
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

        self.sse = EventStream(self.front_port, "sse-client", True, self.stopping)
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
        """How many GET /sequence/last an instance has answered: only wrk, through the proxy, asks it."""
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
        signalled = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        wait_exit(proc, 90)
        exited = time.monotonic()
        last = instance.last_line()
        old = self.process(old_label)
        old.update({"exit_status": proc.returncode, "bye_last": last.endswith(BYE)})
        # Marked DOWN before the exit if the checks fit the drain delay, after it if they do not
        down = self.monitor.first_change(instance.name, "DOWN", signalled)
        if down is None and self.monitor.wait_for(instance.name, "DOWN", 30):
            down = self.monitor.first_change(instance.name, "DOWN", signalled)
        step = {"server": instance.name, "old": old_label, "old_pid": proc.pid,
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
        signalled = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        wait_exit(proc, 90)
        exited = time.monotonic()
        last = instance.last_line()
        self.process(old_label).update({"exit_status": proc.returncode, "bye_last": last.endswith(BYE)})
        step = {"server": instance.name, "old": old_label, "old_pid": proc.pid, "signalled": signalled,
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
        while self.served_through_proxy(instance) == 0:
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
        if self.browser is not None:
            record = self.browser.record()
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

        origin = self.attribution()
        results["long_polls"] = {
            "clients": len(self.pollers),
            "statuses": merge_counts(p.statuses for p in self.pollers),
            "errors": [e for p in self.pollers for e in p.errors],
            "longest_s": round(max([p.longest for p in self.pollers] or [0]), 2)}
        results["sse_client"] = self.stream_summary(self.sse.values(), self.sse.events, origin)
        results["sse_client"].update({
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
        for instance in self.instances:
            if instance.proc is not None and instance.proc.poll() is None:
                os.kill(instance.proc.pid, signal.SIGTERM)
        for instance in self.instances:
            if instance.proc is not None:
                wait_exit(instance.proc, 90)
                self.process(instance.label).update({"exit_status": instance.proc.returncode,
                                                     "bye_last": instance.last_line().endswith(BYE)})
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


# -- verdict and report --------------------------------------------------------------------


def verdict(results, scenario):
    wrk = results["wrk"]
    browser = results.get("browser")
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
        checks.append(("the browser sees values from both new instances (%s)" % ", ".join(new_labels.values()),
                        all(saw.get(label, 0) > 0 for label in new_labels.values()),
                        by_process(saw)))
    else:
        checks.append(("the browser never gives up and sees both new instances", False, "not run (--no-browser)"))
    polls = results["long_polls"]
    sse = results["sse_client"]
    supporting = [
        ("every SIGTERM ends with status 143 and the bye as last line",
         all(s["exit_status"] == SIGTERM_STATUS and s["bye_last"] for s in results["restarts"]),
         ", ".join("%s %d" % (s["old"], s["exit_status"]) for s in results["restarts"])),
        ("HAProxy marks a leaving instance DOWN before its drain delay ends",
         all(s["down_after_s"] is not None and s["down_after_s"] < scenario.drain_seconds
             for s in results["restarts"]),
         ", ".join("%s s" % fmt(s["down_after_s"]) for s in results["restarts"]) + " after SIGTERM")
        if not scenario.nginx else
        ("nginx answered no request with an error of its own (every failed attempt passed on)",
         results["nginx"]["answered_5xx"] == 0,
         "%d requests passed on to the other instance; %d answered 5xx"
         % (results["nginx"]["retried"], results["nginx"]["answered_5xx"])),
        ("long-polls: only 200 or 204, no error",
         not polls["errors"] and all(k in ("200", "204") for k in polls["statuses"]),
         "%s; %d errors" % (counts(polls["statuses"]), len(polls["errors"]))),
        ("the SSE client never gives up", sse["gave_up"] is None, sse["gave_up"] or ""),
    ]
    return checks, supporting


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
    print("wrk: %d requests in %.1f s (%.0f req/s), non-2xx %d, socket errors %s, statuses %s, p99 %s ms"
          % (w["requests"], w["seconds"], w["rps"], w["non_2xx_3xx"], w["socket_errors"], w["statuses"],
             w["latency_ms"].get("99%")))
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
    print("")
    for name, ok, detail in checks + supporting:
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))


def write_doc(results, checks, supporting, scenario, command):
    a = scenario.args
    w = results["wrk"]
    date = subprocess.run(["date", "-u"], stdout=subprocess.PIPE, text=True).stdout.strip()
    m = machine()
    met = all(ok for _, ok, _ in checks)
    lines = []
    add = lines.append
    add("# Rolling restart behind HAProxy")
    add("")
    add("Written by `bench/rolling_restart.py` (issue 12, point 9). Two instances of graceful-sequence behind")
    add("HAProxy (`deploy/haproxy/haproxy.cfg`, with this run's ports), restarted one after the other while")
    add("keep-alive load, long-polls, an SSE client and a headless browser go through HAProxy.")
    add("`docs/operations.md` (\"Load balancer\") explains the configuration; `bench/README.md` how to run it.")
    add("The same scenario behind nginx (`--proxy nginx`) is at the end: [Behind nginx](#behind-nginx).")
    add("")
    add("- Date: %s" % date)
    add("- Machine: %s CPUs (`nproc`), %s, Linux %s; shared with other builds" % (m["nproc"], m["cpu"], m["kernel"]))
    add("- Software: %s; %s; %s; Chromium %s and its chromedriver; Python %s"
        % (" ".join(version([a.haproxy, "-v"]).split()[:3]), " ".join(version(["wrk", "--version"]).split()[:2]),
           version([a.java, "-version"]), (results.get("browser") or {}).get("version", "not run"),
           platform.python_version()))
    add("- Command: `%s`" % command)
    add("- Instances: `%s`" % " ".join(scenario.instances[0].argv()).replace(ROOT + "/", "")
        .replace("--server.port=%d" % scenario.instances[0].port, "--server.port=$PORT"))
    add("- Restarts, in this order: %s; %d s after each new instance is UP in HAProxy before the next"
        % (" then ".join(a.restarts.split(",")), a.settle))
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
        % a.drain_delay)
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
    add("with what each process sent on a direct stream of its own.")
    add("")
    sse = results["sse_client"]
    b = results.get("browser")
    for line in stream_client_rows(sse, b, "SSE client (Python, EventSource rules: `retry:`, `Last-Event-ID`)"):
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
    if scenario.args.notes and os.path.exists(scenario.args.notes):
        with open(scenario.args.notes) as f:
            add(f.read().rstrip())
        add("")
    kept = nginx_block()
    if kept:
        lines.extend(["", kept])
    with open(DOC, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")
    log("wrote %s" % os.path.relpath(DOC, ROOT))


def nginx_block():
    """The nginx run's part of the doc as it is now, markers included, or empty."""
    try:
        with open(DOC) as f:
            text = f.read()
    except OSError:
        return ""
    start, end = text.find(NGINX_BEGIN), text.find(NGINX_END)
    return text[start:end + len(NGINX_END)] if start >= 0 and end > start else ""


def write_nginx_doc(results, checks, supporting, scenario, command):
    """Writes the nginx run into its own part at the end of docs/rolling-restart.md, leaving the rest."""
    a = scenario.args
    w = results["wrk"]
    n = results["nginx"]
    date = subprocess.run(["date", "-u"], stdout=subprocess.PIPE, text=True).stdout.strip()
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
    add("(its own request counter), then %d s before the next restart. `docs/operations.md` (\"nginx\") explains"
        % a.settle)
    add("the file.")
    add("")
    add("- Date: %s" % date)
    add("- Software: %s; the rest as above" % version([a.nginx, "-v"]).replace("nginx version: ", ""))
    add("- Command: `%s`" % command)
    add("- Instances: as above (`--shutdown.drain-delay=%s --sequence.period=%s`)" % (a.drain_delay, a.period))
    add("- Restarts, in this order: %s" % " then ".join(a.restarts.split(",")))
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
    add("drain delay, %s); back is the first request nginx sent the new process." % a.drain_delay)
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
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            add(f.read().rstrip())
        add("")
    add(NGINX_END)
    try:
        with open(DOC) as f:
            text = f.read()
    except OSError:
        text = "# Rolling restart\n"
    old = nginx_block()
    if old:
        text = text.replace(old, "").rstrip("\n")
    with open(DOC, "w") as f:
        f.write(text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    log("wrote the nginx part of %s" % os.path.relpath(DOC, ROOT))


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
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--config", help="the proxy's configuration to render (ports replaced); default: "
                        "deploy/haproxy/haproxy.cfg, or deploy/nginx/nginx.conf with --proxy nginx")
    parser.add_argument("--drain-delay", default="5s")
    parser.add_argument("--period", default="500ms", help="sequence.period of the instances")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--long-polls", type=int, default=4)
    parser.add_argument("--restarts", default="a,b,a",
                        help="instances to restart, in order (server names of haproxy.cfg; with nginx, a and b "
                             "are its upstream servers in their order)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the first restart")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds after a new instance is UP in HAProxy (or sent a request by nginx) before the "
                             "next restart")
    parser.add_argument("--budget", type=int, default=170, help="bound on the whole run, in seconds")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/rolling-restart.md alone")
    parser.add_argument("--notes", help="hand-written notes appended to the doc as they are; default: "
                        "bench/rolling-restart-notes.md, or bench/rolling-restart-nginx-notes.md with --proxy nginx")
    args = parser.parse_args()
    seconds(args.drain_delay)
    if args.config is None:
        args.config = NGINX_CONFIG if args.proxy == "nginx" else CONFIG
    if args.notes is None:
        args.notes = os.path.join(HERE, "rolling-restart-nginx-notes.md" if args.proxy == "nginx"
                                  else "rolling-restart-notes.md")

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
    checks, supporting = verdict(results, scenario)
    results["verdict"] = [{"check": n, "ok": ok, "detail": d} for n, ok, d in checks + supporting]
    with open(os.path.join(scenario.directory, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print_summary(results, checks, supporting)
    if not args.no_doc:
        if scenario.nginx:
            write_nginx_doc(results, checks, supporting, scenario, command)
        else:
            write_doc(results, checks, supporting, scenario, command)
    return 0 if all(ok for _, ok, _ in checks + supporting) else 1


if __name__ == "__main__":
    sys.exit(main())
