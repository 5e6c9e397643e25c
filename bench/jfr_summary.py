#!/usr/bin/env python3
"""Where a fan-out run's time goes, from a JFR recording (bench/fanout.sh --profile).

  python3 bench/jfr_summary.py RECORDING.jfr [--jfr /path/to/jfr] [--json OUT.json]

Reads `jfr print --json` of the recording: Java execution samples by part of the service
(the thread's name: fan-out lanes, Tomcat, producer, ...) and, within each, the top frames
(leaf methods, and the first frame of the service, Tomcat or the JDK's socket code from
the top), native method samples (threads blocked in native code: epoll, socket writes),
the collections and their pauses, and every state-file force (fsync) with its duration.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import thread_group  # noqa: E402


def events(jfr, recording, names):
    out = subprocess.run([jfr, "print", "--json", "--stack-depth", "64", "--events", ",".join(names), recording],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600, check=True).stdout
    return json.loads(out)["recording"]["events"]


def frame_name(frame):
    """package.Class.method: jfr prints a class as com/example/Foo, a lambda's hidden class
    as com.example.Foo$$Lambda$12+0x.../123."""
    method = frame["method"]
    type_name = method["type"]["name"]
    if "$$Lambda" in type_name:
        type_name = type_name.split("$$Lambda")[0] + "$$Lambda"
    return "%s.%s" % (type_name.replace("/", "."), method["name"])


def short(name):
    parts = name.split(".")
    return ".".join(parts[-2:])


def service_call(frames):
    """The last call out of the service's code, nearest the sample's own frame: what the
    service asked the container or the JDK to do ("StreamSubscriber.writeWhileReady ->
    CoyoteOutputStream.flush"), or the service method itself when the sample is in the
    service's own code."""
    names = [frame_name(f) for f in frames]
    for i, name in enumerate(names):
        if name.startswith("com.example.") and "$$Lambda" not in name:
            if i == 0:
                return short(name) + " (own code)"
            return "%s -> %s" % (short(name), short(names[i - 1]))
    return "outside the service: " + (short(names[0]) if names else "?")


def duration_ms(text):
    # JFR prints ISO-8601 durations: PT0.001234S
    if not text or not text.startswith("PT"):
        return 0.0
    value, total = text[2:], 0.0
    for unit, factor in (("H", 3600000.0), ("M", 60000.0), ("S", 1000.0)):
        if unit in value:
            head, value = value.split(unit, 1)
            total += float(head) * factor
    return total


def bucket(frames):
    """What a sample is doing, from its stack, top first."""
    names = [frame_name(f) for f in frames]
    joined = " ".join(names)
    if "sun.nio.ch.SocketDispatcher.write" in joined or "sun.nio.ch.NioSocketImpl" in joined \
            or "sun.nio.ch.SocketChannelImpl.write" in joined or "IOUtil.write" in joined:
        return "socket write (kernel send)"
    if "sun.nio.ch.EPoll" in joined or "SelectorImpl.select" in joined:
        return "epoll / select"
    if "FileDispatcherImpl.force" in joined or "FileChannelImpl.force" in joined:
        return "state file fsync"
    for name in names:
        if name.startswith("com.example.") and "$$Lambda" not in name:
            return "service code (%s)" % name.split(".")[-2]
    for name in names:
        if name.startswith("org.apache.coyote.") or name.startswith("org.apache.tomcat.") \
                or name.startswith("org.apache.catalina."):
            return "Tomcat (%s)" % name.split(".")[-2]
    for name in names:
        if name.startswith("java.util.concurrent."):
            return "JDK concurrency (%s)" % name.split(".")[-2]
    return "other (%s)" % (names[0] if names else "?")


def summarize(jfr, recording):
    samples = events(jfr, recording, ["jdk.ExecutionSample"])
    native = events(jfr, recording, ["jdk.NativeMethodSample"])
    gcs = events(jfr, recording, ["jdk.GarbageCollection"])
    forces = events(jfr, recording, ["jdk.FileForce"])
    by_group = collections.Counter()
    buckets = collections.defaultdict(collections.Counter)
    leaves = collections.defaultdict(collections.Counter)
    calls = collections.defaultdict(collections.Counter)
    for event in samples:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or "?"
        group = thread_group(thread)
        by_group[group] += 1
        frames = (values.get("stackTrace") or {}).get("frames") or []
        buckets[group][bucket(frames)] += 1
        if frames:
            leaves[group][frame_name(frames[0])] += 1
            calls[group][service_call(frames)] += 1
    native_by = collections.defaultdict(collections.Counter)
    for event in native:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or "?"
        frames = (values.get("stackTrace") or {}).get("frames") or []
        native_by[thread_group(thread)][(frame_name(frames[0]) + " <- " + service_call(frames)) if frames else "?"] += 1
    pauses = sorted(duration_ms(e["values"].get("sumOfPauses")) for e in gcs)
    force_ms = sorted(duration_ms(e["values"].get("duration")) for e in forces)

    def pct(values, p):
        if not values:
            return None
        return round(values[min(len(values) - 1, int(p / 100.0 * len(values)))], 3)

    total = sum(by_group.values()) or 1
    return {
        "recording": recording,
        "execution_samples": sum(by_group.values()),
        "samples_by_part": {k: {"samples": v, "share": round(v / float(total), 3),
                                "what": dict(buckets[k].most_common(8)),
                                "top_leaf_frames": dict(leaves[k].most_common(8)),
                                "service_calls": dict(calls[k].most_common(10))}
                            for k, v in by_group.most_common()},
        "native_samples_by_part": {k: {"samples": sum(v.values()), "top": dict(v.most_common(5))}
                                   for k, v in native_by.items()},
        "gc": {"collections": len(gcs), "pause_total_ms": round(sum(pauses), 1),
               "pause_p50_ms": pct(pauses, 50), "pause_max_ms": pauses[-1] if pauses else None,
               "names": dict(collections.Counter(e["values"].get("name") for e in gcs))},
        "state_file_forces": {"count": len(force_ms), "p50_ms": pct(force_ms, 50), "p99_ms": pct(force_ms, 99),
                              "max_ms": force_ms[-1] if force_ms else None,
                              "total_ms": round(sum(force_ms), 1)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording")
    parser.add_argument("--jfr", default="jfr")
    parser.add_argument("--json")
    args = parser.parse_args()
    summary = summarize(args.jfr, args.recording)
    text = json.dumps(summary, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
