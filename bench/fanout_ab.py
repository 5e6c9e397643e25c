#!/usr/bin/env python3
"""The fan-out side by side: an old jar, the new jar with one lane, the new jar with
its lanes (one per core), and the new jar with its state file on tmpfs (no real fsync), each
through the fan-out scenarios (bench.py's FANOUT_SCENARIOS), interleaved, several rounds.
Started by bench/fanout.sh, which builds the Go client first.

Prints the medians (min-max) per scenario and variant, the state file write's share (the
disk variant minus the tmpfs one, round by round), and writes bench/out/fanout-ab.json and
bench/out/fanout-ab.md. With --profile, one more run of the lanes (and one of the old jar)
at the heaviest scenario with a JFR recording, summarised by bench/jfr_summary.py; those runs
stay out of the medians.

Every process is started by bench.py's Runner and ended by its PID; loopback only; every
phase bounded in time.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import jfr_summary  # noqa: E402

OUT = bench.OUT
RESULTS = os.path.join(OUT, "fanout-ab.json")
SUMMARY = os.path.join(OUT, "fanout-ab.md")

VARIANT_TEXT = {
    "old": "the old jar (one fan-out thread, Tomcat's buffers), on the heap its README documented for 10,000 "
           "streams",
    "one-lane": "the new jar with `-XX:ActiveProcessorCount=1` (one lane; also one core's worth of JIT threads)",
    "lanes": "the new jar, a lane per core",
    "lanes-shm": "the new jar, a lane per core, state file on tmpfs (`/dev/shm`: its fsync writes nothing to a disk)",
    "lanes-xms": "the new jar, a lane per core, the heap started at its maximum (`-Xms` as `-Xmx`: the serial "
                 "collector grows a heap by full collections)",
}


# Run only when --scenarios names them: the cap of the deployment's own heap (-Xmx384m holds
# 4,411 streams), with --heap -Xmx384m
EXTRA_SCENARIOS = [
    ("4k-200ms", 4000, "200ms", 60),
]


def bench_period_ms(period):
    return float(period[:-2]) if period.endswith("ms") else 1000.0 * float(period.rstrip("s"))


def median_cell(values, digits=1):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    m = statistics.median(values)
    form = "%%.%df" % digits
    if len(values) == 1:
        return form % m
    return (form + " (" + form + "-" + form + ")") % (m, min(values), max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_jar", nargs="?")
    parser.add_argument("new_jar", nargs="?")
    parser.add_argument("--render", metavar="JSON", nargs="+",
                        help="print the tables of earlier runs' raw results (several: their runs together)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="bench.py's quick scenarios, to check the harness")
    parser.add_argument("--variants", default="old,one-lane,lanes,lanes-shm")
    parser.add_argument("--scenarios", default="", help="names of scenarios to run (default: all)")
    parser.add_argument("--profile", action="store_true", help="one JFR-recorded run per profiled variant at the end")
    parser.add_argument("--profile-only", action="store_true", help="only the profiled runs")
    parser.add_argument("--profile-variants", default="lanes,old")
    parser.add_argument("--old-heap", default=os.environ.get("OLD_HEAP", "-Xmx2g"),
                        help="the old jar's heap: before the memory change a stream took 96 KiB of the cap, "
                             "so -Xmx1g holds only 6,933 (default -Xmx2g, what its README documented)")
    parser.add_argument("--heap", default=next(f for f in bench.FANOUT_FLAGS if f.startswith("-Xmx")),
                        help="the new jar's -Xmx (default: bench.py's fan-out heap)")
    parser.add_argument("--java17", default=os.environ.get("JAVA17", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"))
    parser.add_argument("--fanout-client", default=bench.GO_FANOUT_CLIENT)
    args = parser.parse_args()
    if args.render:
        records, failures, profiles, scenarios, variants = [], [], [], [], []
        for path in args.render:
            with open(path) as f:
                data = json.load(f)
            records += data["records"]
            failures += data["failures"]
            profiles += data["profiles"]
            # bench/fanout-ab-2026-12-02.json holds two invocations: a list of their metas
            for meta in data["meta"] if isinstance(data["meta"], list) else [data["meta"]]:
                scenarios += [s for s in meta["scenarios"] if s not in scenarios]
                variants += [v for v in meta["variants"] if v not in variants]
        print(render(records, failures, profiles, scenarios, variants))
        print(headline(records, scenarios))
        return
    if not args.old_jar or not args.new_jar:
        parser.error("OLD.jar and NEW.jar are required")
    old_jar, new_jar = os.path.abspath(args.old_jar), os.path.abspath(args.new_jar)

    runner_args = argparse.Namespace(mode="quick" if args.quick else "full", java17=args.java17, java25=None,
                                     jar=new_jar, plain_jar=None, go=None, fanout_client=args.fanout_client)
    os.environ.setdefault("QUIET_WAIT", "5")
    runner = bench.Runner(runner_args)
    # Each invocation keeps its services' logs and state files in a folder of its own
    stamp = time.strftime("%Y%m%dT%H%M%S")
    runner.run_dir = os.path.join(OUT, "fanout-runs", stamp)
    os.makedirs(runner.run_dir, exist_ok=True)
    # The raw results of each invocation stay (bench/out/fanout-ab.json is the last one's)
    kept = os.path.join(OUT, "fanout-ab-%s.json" % stamp)
    scenarios = runner.fanout_scenarios
    if args.scenarios:
        wanted = args.scenarios.split(",")
        scenarios = [s for s in scenarios + EXTRA_SCENARIOS if s[0] in wanted]
    shm = tempfile.mkdtemp(prefix="gs-fanout-", dir="/dev/shm")
    atexit.register(shutil.rmtree, shm, True)
    atexit.register(bench.cleanup)
    signal.signal(signal.SIGTERM, bench.on_signal)
    signal.signal(signal.SIGINT, bench.on_signal)
    java = args.java17
    common = ["--server.address=127.0.0.1"]
    old_flags = [f if not f.startswith("-Xmx") else args.old_heap for f in bench.FANOUT_FLAGS]
    new_flags = [f if not f.startswith("-Xmx") else args.heap for f in bench.FANOUT_FLAGS]
    runs = {"n": 0}

    def command(variant):
        def argv(port):
            base = ["--server.port=%d" % port] + common
            if variant == "old":
                return [java] + old_flags + ["-jar", old_jar] + base
            if variant == "one-lane":
                return [java] + new_flags + ["-XX:ActiveProcessorCount=1", "-jar", new_jar] + base
            if variant == "lanes":
                return [java] + new_flags + ["-jar", new_jar] + base
            if variant == "lanes-xms":
                xms = [args.heap.replace("-Xmx", "-Xms")]
                return [java] + new_flags + xms + ["-jar", new_jar] + base
            if variant == "lanes-shm":
                # A fresh directory each run, as each disk run has a fresh working directory
                runs["n"] += 1
                state = os.path.join(shm, "run-%d" % runs["n"])
                os.makedirs(state)
                return [java] + new_flags + ["-jar", new_jar] + base + [
                    "--sequence.state-file=%s/last.txt" % state]
            raise ValueError(variant)
        return argv

    variants = args.variants.split(",")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = open("/proc/loadavg").read().split()[:3]
    records, failures, profiles = [], [], []

    def save():
        meta = bench.machine_facts(argparse.Namespace(java17=java, java25=java))
        meta.update({"started": started.strftime("%Y-%m-%d %H:%M UTC"),
                     "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "loadavg_start": load_start, "loadavg_end": open("/proc/loadavg").read().split()[:3],
                     "old_jar": old_jar, "new_jar": new_jar, "rounds": args.rounds, "variants": variants,
                     "scenarios": scenarios, "fanout_flags": " ".join(new_flags),
                     "old_flags": " ".join(old_flags), "argv": sys.argv, "kernel": platform.release()})
        for path in (kept, RESULTS):
            with open(path, "w") as f:
                json.dump({"meta": meta, "records": records, "failures": failures, "profiles": profiles}, f,
                          indent=1)

    def one(scenario, variant, round_no, profile=None):
        # A second attempt: a free port can be taken by another process before the service binds it
        for attempt in (1, 2):
            try:
                record = runner.fanout(scenario, argv=command(variant), label=variant, profile=profile)
                record["round"] = round_no
                record["variant"] = variant
                return record
            except Exception as ex:  # recorded, the others go on
                bench.log("fan-out %s %s failed (attempt %d): %r" % (variant, scenario[0], attempt, ex))
                failures.append({"variant": variant, "scenario": scenario[0], "round": round_no, "error": repr(ex),
                                 "attempt": attempt})
                bench.cleanup()
        return None

    if not args.profile_only:
        for r in range(args.rounds):
            bench.log("round %d of %d (load average %.2f)" % (r + 1, args.rounds, bench.loadavg()))
            for scenario in scenarios:
                order = variants[r % len(variants):] + variants[:r % len(variants)]
                for variant in order:
                    record = one(scenario, variant, r + 1)
                    if record:
                        records.append(record)
                    save()
    if args.profile or args.profile_only:
        jfc = os.path.join(OUT, "fanout-profile.jfc")
        source = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(java))), "lib", "jfr", "profile.jfc")
        with open(source) as f:
            text = f.read()
        # Every force of the state file, not only those over 10 ms
        text = re.sub(r'(<event name="jdk.FileForce">.*?<setting name="threshold"[^>]*>)[^<]*(<)',
                      r"\g<1>0 ms\g<2>", text, flags=re.S)
        with open(jfc, "w") as f:
            f.write(text)
        heaviest = scenarios[-1]
        for variant in args.profile_variants.split(","):
            record = one(heaviest, variant, 0, profile=jfc)
            if record and record.get("jfr") and os.path.exists(record["jfr"]):
                summary = jfr_summary.summarize(os.path.join(os.path.dirname(java), "jfr"), record["jfr"])
                record["profile"] = summary
                profiles.append(record)
                bench.log("profile of %s %s: %s" % (variant, heaviest[0], json.dumps(summary["samples_by_part"])[:600]))
            save()
    save()
    text = render(records, failures, profiles, scenarios, variants)
    with open(SUMMARY, "w") as f:
        f.write(text)
    print(text)
    bench.log("raw results in %s, summary in %s" % (RESULTS, SUMMARY))


def headline(records, scenarios):
    """docs/benchmarks.md's table: a row per figure, a column per variant."""
    variants = [v for v in ("old", "one-lane", "lanes", "lanes-shm", "lanes-xms") if any(r["variant"] == v for r in records)]

    def runs(name, variant):
        return [r for r in records if r["scenario"] == name and r["variant"] == variant]

    def num(v, digits=0):
        return ("{:,.%df}" % digits).format(v)

    def cell(values, digits=0):
        values = [v for v in values if v is not None]
        if not values:
            return "n/a"
        m = statistics.median(values)
        if len(values) == 1:
            return num(m, digits)
        return "%s (%s-%s)" % (num(m, digits), num(min(values), digits), num(max(values), digits))

    lines = ["| figure | " + " | ".join(variants) + " |", "|---" * (len(variants) + 1) + "|"]
    for name, streams, period, seconds in scenarios:
        where = "%s streams, %s" % ("{:,}".format(streams), period)
        rows = [("lag p99 (ms)", lambda rs: cell([r["lag_p99_ms"] for r in rs])),
                ("lag p50 (ms)", lambda rs: cell([r["lag_p50_ms"] for r in rs])),
                ("p99 of each 10 s slice, median run (ms)", lambda rs: ", ".join(
                    "{:,.0f}".format(v) if v is not None else "-"
                    for v in sorted(rs, key=lambda r: r["lag_p99_ms"] or 0)[(len(rs) - 1) // 2]["lag_p99_ms_slices"])),
                ("values of the window delivered (%)", lambda rs: cell([
                    100.0 * min(1.0, r["events_in_window"] / (streams * r["window_seconds"] * 1000.0 /
                                                              bench_period_ms(period))) for r in rs])),
                ("fan-out threads / client / other tenants (cores)", lambda rs: "%.2f / %.2f / %.2f" % (
                    statistics.median([r["server_cores_by_thread"].get("fan-out lanes", 0) for r in rs]),
                    statistics.median([r["client_cpu_share"] for r in rs]),
                    statistics.median([r["others_cores"] for r in rs]))),
                ("id violations / gaps (worst run)", lambda rs: "%d / %d" % (
                    max(r["id_violations"] for r in rs), max(r["gaps"] for r in rs))),
                ("SIGTERM to exit (ms)", lambda rs: cell([r["exit_ms"] for r in rs])),
                ("told `shutdown` / opened (worst run)", lambda rs: "%d / %d" % (
                    min(r["saw_shutdown"] for r in rs), min(r["opened"] for r in rs))),
                ("RSS per stream (KiB)", lambda rs: cell([r["rss_per_subscriber_kib"] for r in rs], 1)),
                ("runs", lambda rs: str(len(rs)))]
        for label, fn in rows:
            lines.append("| %s: %s | " % (where, label) + " | ".join(
                fn(runs(name, v)) if runs(name, v) else "n/a" for v in variants) + " |")
    return "\n".join(lines) + "\n"


def render(records, failures, profiles, scenarios, variants):
    lines = []
    add = lines.append
    add("| scenario | variant | runs | lag p50 (ms) | lag p99 (ms) | lag max (ms) | p99 per 10 s slice, median run (ms) "
        "| values of the window received | id violations / gaps | server cores (lanes) | client cores | others' cores "
        "| RSS per stream (KiB) | SIGTERM to exit (ms) | saw shutdown / opened |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, streams, period, seconds in scenarios:
        for variant in variants:
            rs = [r for r in records if r["scenario"] == name and r["variant"] == variant]
            if not rs:
                continue

            def col(key, rs=rs):
                return [r.get(key) for r in rs]

            p99s = sorted(rs, key=lambda r: r.get("lag_p99_ms") or 0)
            middle = p99s[(len(p99s) - 1) // 2]
            lanes = [r.get("server_cores_by_thread", {}).get("fan-out lanes") for r in rs]
            expected = [streams * r["window_seconds"] * 1000.0 / bench_period_ms(period) for r in rs]
            received = [100.0 * min(1.0, (r.get("events_in_window") or 0) / e) for r, e in zip(rs, expected)]
            add("| %s streams, %s, %d s | %s | %d | %s | %s | %s | %s | %s %% | %d / %d | %s (%s) | %s | %s | %s | %s "
                "| %s |" % (
                "{:,}".format(streams), period, seconds, variant, len(rs),
                median_cell(col("lag_p50_ms")), median_cell(col("lag_p99_ms")), median_cell(col("lag_max_ms")),
                " / ".join("%.0f" % v if v is not None else "-" for v in middle.get("lag_p99_ms_slices") or []),
                median_cell(received, 0), max(v or 0 for v in col("id_violations")), max(v or 0 for v in col("gaps")),
                median_cell(col("server_cores"), 2), median_cell(lanes, 2), median_cell(col("client_cpu_share"), 2),
                median_cell(col("others_cores"), 2), median_cell(col("rss_per_subscriber_kib")),
                median_cell(col("exit_ms"), 0),
                "%d/%d" % (min(col("saw_shutdown")), min(col("opened")))))
    add("")
    # The state file's write: the same jar, disk against tmpfs, round by round
    add("State file write's share (lanes on disk minus lanes-shm, paired by round; median (min-max) of the rounds):")
    add("")
    for name, streams, period, seconds in scenarios:
        disk = {r["round"]: r for r in records if r["scenario"] == name and r["variant"] == "lanes"}
        tmp = {r["round"]: r for r in records if r["scenario"] == name and r["variant"] == "lanes-shm"}
        both = sorted(set(disk) & set(tmp))
        if not both:
            continue
        d50 = [disk[k]["lag_p50_ms"] - tmp[k]["lag_p50_ms"] for k in both]
        d99 = [disk[k]["lag_p99_ms"] - tmp[k]["lag_p99_ms"] for k in both]
        add("- %s streams at %s: p50 %s ms, p99 %s ms" % ("{:,}".format(streams), period, median_cell(d50),
                                                          median_cell(d99)))
    if failures:
        add("")
        add("Failed runs: " + "; ".join("%s %s round %s: %s" % (f["variant"], f["scenario"], f["round"], f["error"])
                                        for f in failures))
    for record in profiles:
        p = record["profile"]
        add("")
        add("Profile of %s at %s (JFR, 30 s from the window's start; not in the medians): lag p50 %.1f p99 %.1f ms; "
            "%d execution samples" % (record["variant"], record["scenario"], record["lag_p50_ms"] or -1,
                                     record["lag_p99_ms"] or -1, p["execution_samples"]))
        for part, figures in p["samples_by_part"].items():
            add("- %s: %.0f%% of samples; %s" % (part, 100 * figures["share"], ", ".join(
                "%s %d" % kv for kv in list(figures["what"].items())[:5])))
        add("- GC: %s; state-file forces: %s; server cores by thread: %s" % (
            json.dumps(p["gc"]), json.dumps(p["state_file_forces"]), json.dumps(record["server_cores_by_thread"])))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
