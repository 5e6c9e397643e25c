#!/usr/bin/env python3
"""Fan-out client for the benchmark: opens N server-sent event streams on
GET /sequence/stream of graceful-sequence (loopback only) and measures the
delivery lag of every value event, from the emittedAt in its JSON to the moment
the client read it.

Standard library only (asyncio with plain Protocols, so that one Python process
can follow thousands of streams). Talks to the harness on stdout, one line each:

  OPEN <n>              every stream is open and has had its first event;
                        the measurement window starts now
  WINDOW <seconds>      the window is over; the harness may now send SIGTERM
  RESULT <json>         the figures (last line)

Every phase is bounded in time; the process ends on its own.
"""

import argparse
import asyncio
import datetime
import json
import resource
import sys
import time

EMITTED = b'"emittedAt":"'
SHUTDOWN = b"event: shutdown"


class Stream(asyncio.Protocol):
    """One HTTP/1.1 event stream: de-chunks the body and scans it for events."""

    def __init__(self, client):
        self.client = client
        self.transport = None
        self.head = b""
        self.in_body = False
        self.status = None
        self.chunked = False
        self.raw = b""  # undecoded chunked bytes
        self.chunk_left = 0  # bytes of the current chunk still to read (+2 for CRLF)
        self.body = b""  # decoded, not yet scanned
        self.events = 0
        self.saw_shutdown = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(
            b"GET /sequence/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Accept: text/event-stream\r\n\r\n"
        )

    def data_received(self, data):
        now = time.time()
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.head[:end], self.head[end + 4 :]
            self.head = b""
            self.in_body = True
            first = head.split(b"\r\n", 1)[0].split()
            self.status = int(first[1]) if len(first) > 1 else 0
            self.chunked = b"transfer-encoding: chunked" in head.lower()
        if self.chunked:
            self.raw += data
            data = self.dechunk()
        self.body += data
        self.scan(now)

    def dechunk(self):
        out = []
        raw = self.raw
        pos = 0
        while True:
            if self.chunk_left > 0:
                take = min(self.chunk_left, len(raw) - pos)
                if take <= 0:
                    break
                out.append(raw[pos : pos + take])
                pos += take
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.chunk_left = -2  # the CRLF after the chunk
                continue
            if self.chunk_left < 0:
                take = min(-self.chunk_left, len(raw) - pos)
                if take <= 0:
                    break
                pos += take
                self.chunk_left += take
                continue
            eol = raw.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(raw[pos:eol].split(b";", 1)[0] or b"0", 16)
            pos = eol + 2
            if size == 0:
                pos = len(raw)
                break
            self.chunk_left = size
        self.raw = raw[pos:]
        return b"".join(out)

    def scan(self, now):
        body = self.body
        end = body.rfind(b"\n\n")
        if end < 0:
            return
        complete, self.body = body[: end + 2], body[end + 2 :]
        pos = 0
        while True:
            i = complete.find(EMITTED, pos)
            if i < 0:
                break
            j = complete.find(b'"', i + len(EMITTED))
            self.events += 1
            self.client.on_event(complete[i + len(EMITTED) : j], now)
            pos = j
        if SHUTDOWN in complete:
            self.saw_shutdown = True

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(time.time())


class Client:
    def __init__(self):
        self.parsed = {}
        self.window_start = None
        self.window_end = None
        self.lags = []

    def emitted(self, text):
        epoch = self.parsed.get(text)
        if epoch is None:
            stamp = text.decode()
            if stamp.endswith("Z"):
                stamp = stamp[:-1] + "+00:00"
            epoch = datetime.datetime.fromisoformat(stamp).timestamp()
            self.parsed[text] = epoch
        return epoch

    def on_event(self, text, now):
        if self.window_start is None:
            return
        emitted = self.emitted(text)
        # Only values emitted inside the window: the first event of a stream is an older value
        if emitted >= self.window_start and (self.window_end is None or emitted <= self.window_end):
            self.lags.append(now - emitted)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


async def main(args):
    loop = asyncio.get_running_loop()
    client = Client()
    streams = []
    gate = asyncio.Semaphore(args.connect_concurrency)
    failures = 0

    async def open_one():
        nonlocal failures
        async with gate:
            for attempt in range(5):
                try:
                    _, proto = await loop.create_connection(
                        lambda: Stream(client), "127.0.0.1", args.port
                    )
                    streams.append(proto)
                    return
                except OSError:
                    await asyncio.sleep(0.05 * (attempt + 1))
            failures += 1

    started = time.monotonic()
    await asyncio.wait_for(
        asyncio.gather(*(open_one() for _ in range(args.streams))), args.open_timeout
    )
    # Wait until every stream has its first event (the current value)
    deadline = time.monotonic() + args.open_timeout
    while time.monotonic() < deadline:
        if all(s.events >= 1 for s in streams):
            break
        await asyncio.sleep(0.05)
    ready = sum(1 for s in streams if s.events >= 1)
    bad_status = sum(1 for s in streams if s.status not in (None, 200))
    open_seconds = time.monotonic() - started
    client.window_start = time.time()
    say("OPEN %d" % ready)
    await asyncio.sleep(args.seconds)
    client.window_end = time.time()
    say("WINDOW %.3f" % (client.window_end - client.window_start))
    # The harness sends SIGTERM now; wait for the streams to end
    closed = [s.closed for s in streams]
    if closed:
        await asyncio.wait(closed, timeout=args.close_timeout)
    lags_ms = [1000.0 * lag for lag in client.lags]
    result = {
        "requested": args.streams,
        "opened": len(streams),
        "connect_failures": failures,
        "non_200": bad_status,
        "ready": ready,
        "open_seconds": round(open_seconds, 3),
        "window_seconds": round(client.window_end - client.window_start, 3),
        "events_in_window": len(lags_ms),
        "lag_p50_ms": percentile(lags_ms, 50),
        "lag_p99_ms": percentile(lags_ms, 99),
        "lag_max_ms": max(lags_ms) if lags_ms else None,
        "saw_shutdown": sum(1 for s in streams if s.saw_shutdown),
        "ended": sum(1 for s in streams if s.closed.done()),
    }
    for s in streams:
        if s.transport is not None:
            s.transport.abort()
    say("RESULT " + json.dumps(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--open-timeout", type=float, default=60.0)
    parser.add_argument("--close-timeout", type=float, default=15.0)
    parser.add_argument("--connect-concurrency", type=int, default=64)
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, arguments.streams + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(main(arguments))
