"""Writes docs/benchmarks.md and the ratio chart from bench/out/results.json."""

import json
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# bench/cluster.sh's results of its last full run with the defaults, committed with the docs; the
# page has a cluster section when the results are there
CLUSTER_RESULTS = os.path.join(HERE, "cluster-results.json")
# The page of the full runs, and the README whose block of headline ratios is written with it
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
README = os.path.join(ROOT, "README.md")
README_BEGIN = "<!-- headline ratios: written by bench/report.py (bench/run.sh) from bench/results.json -->"
README_END = "<!-- end of the headline ratios -->"

# Targets of the fan-out, by scenario (streams, period): the lag p99 in ms
FANOUT_TARGETS = {(1000, "200ms"): 25.0, (10000, "1s"): 75.0, (10000, "200ms"): 150.0}

GS_LABEL, SP_LABEL, GO_LABEL = "graceful-sequence", "spring-plain", "go-seed"

# key, title, unit, graceful-sequence variant, spring-plain variant, go-seed variant,
# better ("lower"/"higher"), target on gs/sp ("<=", x) or ("<", absolute) or None, target on gs/go
FIGURES = [
    ("rps", "Throughput, `/sequence/last`, Java 17", "req/s", "gs-17", "sp-17", "go", "higher",
     (">=", 2.0), (">=", 1.0)),
    ("p99_ms", "p99 latency, `/sequence/last`, Java 17", "ms", "gs-17", "sp-17", "go", "lower",
     ("<=", 0.5), ("<=", 1.0)),
    ("rps", "Throughput, Java 25 + AOT cache (spring-plain on Java 17)", "req/s", "gs-25-aot", "sp-17", "go",
     "higher", None, (">=", 1.0)),
    ("p99_ms", "p99 latency, Java 25 + AOT cache (spring-plain on Java 17)", "ms", "gs-25-aot", "sp-17", "go",
     "lower", ("<=", 0.5), ("<=", 1.0)),
    ("warmup_rps", "Warm-up throughput (first seconds of load), Java 17", "req/s", "gs-17", "sp-17", "go",
     "higher", None, None),
    ("rps", "Throughput, recommended flags", "req/s", "gs-17-lean", "sp-17", "go", "higher", None, None),
    ("p99_ms", "p99 latency, recommended flags", "ms", "gs-17-lean", "sp-17", "go", "lower", None, None),
    ("rps", "Throughput, Spring Boot's Tomcat defaults", "req/s", "gs-17-boot-tomcat", "sp-17", "go", "higher",
     None, None),
    ("p99_ms", "p99 latency, Spring Boot's Tomcat defaults", "ms", "gs-17-boot-tomcat", "sp-17", "go", "lower",
     None, None),
    ("launch_ms", "Launch to first answer, the container's command line (Java 25 + AOT cache) against "
     "spring-plain's `java -jar` on Java 17", "ms", "gs-25-aot", "sp-17", "go", "lower", ("<=", 0.33), None),
    ("launch_ms", "Launch to first answer, Java 25 + AOT cache, both", "ms", "gs-25-aot", "sp-25-aot", "go",
     "lower", ("<=", 1.0), None),
    ("launch_ms", "Launch to first answer, Java 17 `java -jar`", "ms", "gs-17", "sp-17", "go", "lower",
     ("<=", 1.0), None),
    ("launch_ms", "Launch to first answer, Java 25 + AOT cache, C1 only", "ms", "gs-25-aot-c1", "sp-25-aot", "go",
     "lower", None, None),
    ("launch_ms", "Launch to first answer, Java 17, recommended flags", "ms", "gs-17-lean", "sp-17", "go", "lower",
     None, None),
    ("idle_exit_ms", "SIGTERM to exit, idle, Java 17", "ms", "gs-17", "sp-17", "go", "lower", ("<=", 1.2), None),
    ("idle_exit_ms", "SIGTERM to exit, idle, Java 25 + AOT cache", "ms", "gs-25-aot", "sp-25-aot", "go", "lower",
     ("<=", 1.2), None),
    ("drain_overshoot_ms", "Drain overshoot (exit minus in-flight completion)", "ms", "gs-17", "sp-17", "go",
     "lower", None, ("<=", 1.0)),
    ("drain_overshoot_ms", "Drain overshoot, Java 25 + AOT cache", "ms", "gs-25-aot", "sp-17", "go",
     "lower", None, ("<=", 1.0)),
    ("rss_idle_mib", "RSS idle (5 s after ready), Java 17 defaults", "MiB", "gs-17", "sp-17", "go", "lower",
     None, None),
    ("rss_idle_mib", "RSS idle, recommended flags", "MiB", "gs-17-lean", "sp-17", "go", "lower", ("<=", 0.6), None),
    ("rss_load_mib", "RSS after the load, Java 17 defaults", "MiB", "gs-17", "sp-17", "go", "lower", None, None),
    ("rss_load_mib", "RSS after the load, recommended flags", "MiB", "gs-17-lean", "sp-17", "go", "lower",
     None, None),
]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, unit=""):
    if value is None:
        return "n/a"
    if unit in ("req/s", "count"):
        return "{:,.0f}".format(value)
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.2f" % value


def cell(values, unit):
    values = [v for v in (values or []) if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt(values[0], unit)
    return "%s (%s-%s)" % (fmt(med(values), unit), fmt(min(values), unit), fmt(max(values), unit))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def paired(a, b):
    """Ratios round by round (the i-th sample of each variant comes from round i)."""
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    ratios = [x / y for x, y in zip(a, b) if x is not None and y]
    return (min(ratios), max(ratios)) if ratios else None


def ratio_cell(r, pair):
    if r is None:
        return "n/a"
    if pair is None:
        return "%.2fx" % r
    return "%.2fx (%.2f-%.2f)" % (r, pair[0], pair[1])


def judge(target, gs_value, r):
    if target is None:
        return "", ""
    op, x = target
    if op == "abs<":
        met = gs_value is not None and gs_value < x
        return "< %g ms" % x, ("met" if met else "**not met**")
    if r is None:
        return "%s %gx" % (op, x), "n/a"
    met = r >= x if op == ">=" else r <= x
    return "%s %gx" % (op.replace(">=", "≥").replace("<=", "≤"), x), ("met" if met else "**not met**")


def rows(data):
    samples = data["samples"]
    out = []
    for key, title, unit, gv, sv, ov, better, target_sp, target_go in FIGURES:
        figure = samples.get(key, {})
        g, s, o = med(figure.get(gv, [])), med(figure.get(sv, [])), med(figure.get(ov, []))
        r_sp, r_go = ratio(g, s), ratio(g, o)
        paired_sp = paired(figure.get(gv), figure.get(sv))
        paired_go = paired(figure.get(gv), figure.get(ov))
        t_sp, m_sp = judge(target_sp, g, r_sp)
        t_go, m_go = judge(target_go, g, r_go)
        out.append({
            "key": key, "title": title, "unit": unit, "better": better, "gv": gv, "sv": sv,
            "gs": cell(figure.get(gv), unit), "sp": cell(figure.get(sv), unit), "go": cell(figure.get(ov), unit),
            "gs_med": g, "r_sp": r_sp, "r_go": r_go, "t_sp": t_sp, "m_sp": m_sp, "t_go": t_go, "m_go": m_go,
            "target_sp": target_sp, "target_go": target_go, "paired_sp": paired_sp, "paired_go": paired_go,
        })
    return out


def fanout_key(record):
    """Scenario of a fan-out record: (streams, period); runs before the lanes had no period."""
    return (record["streams"], record.get("period", "500ms"))


def period_ms(period):
    if period.endswith("ms"):
        return float(period[:-2])
    return 1000.0 * float(period.rstrip("s"))


def fanout_rows(data):
    by_scenario = {}
    for record in data["extra"]["fanout"]:
        by_scenario.setdefault(fanout_key(record), []).append(record)
    idle_exit = med(data["samples"].get("idle_exit_ms", {}).get("gs-17", []))
    lines = []
    for key in sorted(by_scenario, key=lambda k: (k[0], -period_ms(k[1]))):
        records = by_scenario[key]

        def col(name, records=records):
            return [r.get(name) for r in records]

        exit_med = med(col("exit_ms"))
        slices = [max(s for s in r.get("lag_p99_ms_slices") or [None] if s is not None)
                  if any(s is not None for s in r.get("lag_p99_ms_slices") or []) else None for r in records]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s/%s |" % (
            "{:,}".format(key[0]), key[1],
            cell(col("lag_p50_ms"), "ms"), cell(col("lag_p99_ms"), "ms"), cell(col("lag_max_ms"), "ms"),
            cell(slices, "ms"),
            cell(col("server_cores"), ""),
            *(("n/a", "n/a") if all(v is None for v in col("id_violations"))
              else (max(v or 0 for v in col("id_violations")), max(v or 0 for v in col("gaps")))),
            cell(col("rss_per_subscriber_kib"), "KiB"),
            cell(col("threads_open"), ""),
            cell(col("exit_ms"), "ms"),
            ("%.2fx" % (exit_med / idle_exit)) if exit_med and idle_exit else "n/a",
            min(col("saw_shutdown")), min(col("opened")),
        ))
    return lines


def steps_rows(data):
    grouped = {}
    for record in data["extra"]["gs_steps"]:
        situation = record["situation"]
        name = "%s, %s" % (record["variant"], situation)
        for step, ms in record["steps"].items():
            grouped.setdefault(name, {}).setdefault(step, []).append(ms)
    names = sorted({step for steps in grouped.values() for step in steps},
                   key=lambda s: (s.startswith("total"), s))
    header = "| run | " + " | ".join(names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"]
    for name in sorted(grouped):
        lines.append("| %s | " % name + " | ".join(cell(grouped[name].get(step), "ms") for step in names) + " |")
    return lines


def timeline_rows(data):
    grouped = {}
    for record in data["extra"].get("exit_timeline", []):
        name = "%s, %s" % (record["variant"], record["situation"])
        for mark, ms in record["ms_after_sigterm"].items():
            grouped.setdefault(name, {}).setdefault(mark, []).append(ms)
    marks = ["first shutdown log line", "last shutdown step logged", "bye logged", "process exit"]
    lines = ["| run | " + " | ".join(marks) + " |", "|---" * (len(marks) + 1) + "|"]
    for name in sorted(grouped):
        lines.append("| %s | " % name + " | ".join(cell(grouped[name].get(m), "ms") for m in marks) + " |")
    return lines


def busy_machine(data):
    """Whether other work loaded the machine while the run measured."""
    loads = data["extra"].get("loads", [])
    return bool(loads) and statistics.median(loads) > 0.75 * data["meta"]["nproc"] + 1.5


def write(results, doc, chart, cluster=CLUSTER_RESULTS):
    """Writes the page and its chart; for the page of the full runs (docs/benchmarks.md), the README's
    block of headline ratios too."""
    with open(results) as f:
        data = json.load(f)
    meta = data["meta"]
    os.makedirs(os.path.dirname(doc), exist_ok=True)
    table = rows(data)
    chart_ok = draw(table, chart)
    loads = data["extra"].get("loads", [])
    load_note = ""
    if loads:
        load_note = "1-minute load average while measuring: median %.2f, max %.2f (on %d cores)" % (
            statistics.median(loads), max(loads), meta["nproc"])
    busy = busy_machine(data)
    busy_before = data["extra"].get("busy_before", [])
    waits = data["extra"].get("quiet_waits", [])
    if busy_before:
        load_note += ("; before each measurement the harness waits (at most %.0f s) for the CPUs to be under "
                      "25%% busy: CPU busy at the start of the measurements median %.0f%%, max %.0f%%, "
                      "waited %.0f s in all" % (max(waits), 100 * statistics.median(busy_before),
                                                 100 * max(busy_before), sum(waits)))
    md = []
    add = md.append
    add("# Benchmarks")
    add("")
    add("For anyone who weighs graceful-sequence against the Go original and plain Spring Boot, or checks a "
        "change for a regression: the last full run of `bench/run.sh` and of `bench/cluster.sh`, with their "
        "commands and machine. Why a target is missed, and what each setting was measured against: "
        "[the decision records](decisions/README.md).")
    add("")
    add("graceful-sequence side by side with the Go original (`go-seed`) and a plain Spring Boot service "
        "(`spring-plain`), both from `../shared/peers/`, on one machine in one run: loopback only, every "
        "service on a free port, interleaved (each round runs every variant once, starting one further "
        "along each round). **The machine is shared and noisy**: read the ratios, not the absolute times.")
    add("")
    add("Reproduce with `bench/run.sh` (%s; `bench/run.sh --quick` is one short round to check that it "
        "works). This page is written by the harness (`bench/report.py`), which also writes the headline "
        "ratios of the README; `bench/run.sh --report` writes both again from `bench/results.json`." % (
            "about 20 minutes"))
    add("")
    add("## Run")
    add("")
    add("- Date: %s to %s (%s min), mode `%s`, %d round(s)%s; figures are the median with min-max in "
        "brackets." % (meta["started"], meta["finished"], meta["minutes"], meta["mode"], meta["rounds"],
        "" if meta.get("rounds_planned", meta["rounds"]) == meta["rounds"]
        else " of %d planned (written after each round)" % meta["rounds_planned"]))
    add("- Machine: %d cores (`nproc`), %s, %.1f GiB RAM, Linux %s." % (
        meta["nproc"], meta["cpu"], meta["ram_gib"], meta["kernel"]))
    add("- Load: 1-minute load average %s at the start, %s at the end; %s.%s" % (
        meta["loadavg_start"][0], meta["loadavg_end"][0], load_note,
        " **Other builds were running on the machine during this run, so absolute figures are lower "
        "and noisier than on an idle machine.**" if busy else ""))
    add("- Java 17: `%s`; Java 25: `%s`; %s; %s; Python %s." % (
        meta["java17"][-1] if meta["java17"] else "?", meta["java25"][-1] if meta["java25"] else "?",
        meta["go"][0] if meta["go"] else "?", meta["wrk"][0] if meta["wrk"] else "?", meta["python"]))
    add("- Warm-up: `wrk -t2 -c64 -d%ds` on `/sequence/last`, then the measured `wrk -t2 -c64 -d%ds "
        "--latency`; the JVMs need about 20 s of load to reach steady state, so the throughput rows are "
        "steady state and the warm-up rate is beside them. wrk shares the %d cores with the server." % (
            meta["warmup_s"], meta["duration_s"], meta["nproc"]))
    add("- Recommended flags (the `gs-17-lean` variant): `%s`; the `gs-17-boot-tomcat` variant (load only) "
        "adds `%s`." % (meta["lean_flags"], meta.get("boot_tomcat_args", "")))
    add("")
    add("## Headline ratios and their targets")
    add("")
    add("Ratios are graceful-sequence / peer, of the medians, with the range of the round-by-round ratios "
        "in brackets (each round measures every variant once, close together in time, so a round's ratio is "
        "less affected by the other load on the machine than the absolute figures). For throughput higher is "
        "better; for everything else lower is better.")
    add("")
    add("| figure | graceful-sequence | spring-plain | go-seed | gs / spring-plain | target | | gs / go-seed "
        "| target | |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        add("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["title"], r["unit"], r["gs"], r["sp"], r["go"],
            ratio_cell(r["r_sp"], r["paired_sp"]), r["t_sp"], r["m_sp"],
            ratio_cell(r["r_go"], r["paired_go"]), r["t_go"], r["m_go"]))
    add("")
    add("Launch rows on Java 25 compare with spring-plain on Java 25 with its own AOT cache, except the "
        "first, whose target compares the container's command line with spring-plain's `java -jar` on "
        "Java 17; go-seed is the same binary in every row. The `spring-plain` column of the recommended-flags rows is spring-plain "
        "with its defaults, which is what the target compares with.")
    add("")
    if chart_ok:
        add("![graceful-sequence / peer ratios](%s)" % os.path.basename(chart))
        add("")
    add("## Fan-out: `/sequence/stream` of graceful-sequence")
    add("")
    scenarios = meta.get("fanout_scenarios")
    if scenarios:
        windows = ", ".join("%s streams at `--sequence.period=%s` for %d s" % ("{:,}".format(n), p, w)
                            for _, n, p, w in scenarios)
    else:
        windows = "%d s at `--sequence.period=500ms`" % meta.get("fanout_seconds", 20)
    client = meta.get("fanout_client", "bench/streams.py")
    client_text = ("`load fanout` (`bench/load/`, Go, a goroutine per stream over every core, built into "
                   "`bench/out/load`)" if client.endswith(("fanout", "load"))
                   else "`bench/streams.py` (Python asyncio, one core)")
    add("Java 17, `%s` (the heap that holds 10,000 streams, the default cap: [streams.md](streams.md)); %s. The client, "
        "%s, opens the streams, waits until every one has had its first event, then reads for the window; lag "
        "is the receipt time minus `emittedAt` of each value event emitted in that window (it includes the "
        "state-file fsync that comes before the publish, the client's own scheduling on the same %d cores, and "
        "the millisecond truncation of `emittedAt`), with its p99 per %d s slice of the window (the worst "
        "slice in the table) to show whether it grows. The client checks that event ids strictly increase "
        "on every stream and that no value is missing between consecutive indexes (violations/gaps: the "
        "worst round). Server cores: CPU of the service's threads over the window, in cores. RSS per "
        "stream is (RSS with N streams open - RSS idle) / N, both of the same process. Then SIGTERM "
        "with every stream open." % (meta.get("fanout_flags", "-XX:+UseSerialGC -Xmx2g -XX:+ExitOnOutOfMemoryError"),
                                     windows, client_text, meta["nproc"], 10))
    add("")
    add("| streams | period | lag p50 (ms) | lag p99 (ms) | lag max (ms) | worst 10 s slice's p99 (ms) | "
        "server cores | id violations/gaps | RSS per stream (KiB) | threads with streams | "
        "SIGTERM to exit (ms) | vs idle exit | saw `shutdown` / opened (worst round) |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    md.extend(fanout_rows(data))
    add("")
    if cluster and os.path.exists(cluster):
        with open(cluster) as f:
            md.extend(cluster_lines(json.load(f)))
    add("## graceful-sequence shutdown steps (from its log)")
    add("")
    md.extend(steps_rows(data))
    add("")
    add("## wrk runs")
    add("")
    add("| variant | warm-up req/s | measured req/s | p99 (ms) | non-2xx | socket errors |")
    add("|---|---|---|---|---|---|")
    for w in data["extra"]["wrk"]:
        add("| %s | %s | %s | %s | %d | %s |" % (
            w["variant"], fmt(w["warmup"]["rps"], "req/s"), fmt(w["measured"]["rps"], "req/s"),
            fmt(w["measured"]["p99_ms"]), w["measured"]["non_2xx"], w["measured"]["socket_errors"] or "none"))
    add("")
    add("## Where the time from SIGTERM to exit goes")
    add("")
    add("Milliseconds after SIGTERM (the harness's wall clock against the millisecond timestamps of the "
        "service's log lines, so +-1 ms): the first shutdown line (graceful-sequence: `Shutdown step 1`; "
        "spring-plain: Tomcat's `Commencing graceful shutdown`), the last step (graceful-sequence: "
        "`Graceful shutdown completed in`; spring-plain: Tomcat's `Graceful shutdown complete`), "
        "`I'm leaving, bye!` (both log it), and the exit seen by `waitpid`.")
    add("")
    md.extend(timeline_rows(data))
    add("")
    add("## Drain samples")
    add("")
    add("A request is sent, SIGTERM follows 1 s later, and the request completes about 1 s after that: "
        "`/slow?ms=2000` for the peers; for graceful-sequence (which has no `/slow`) a "
        "`/sequence/next?timeout=30s` sent right after a value, so that the next value (period 2 s) answers "
        "it about 1 s after SIGTERM, while the producer keeps running during the drain (step 6 comes after "
        "step 5). Overshoot is process exit minus the moment the client had the whole response. This runs "
        "right after the load, on the same process.")
    add("")
    add("| variant | request | status | completed after SIGTERM (ms) | exit after completion (ms) | "
        "`Connection` header |")
    add("|---|---|---|---|---|---|")
    for d in data["extra"]["drain"]:
        add("| %s | `%s` | %s | %.0f | %.1f | %s |" % (
            d["variant"], d["path"], d["status"] or d["error"], d["completed_after_sigterm_ms"],
            d["overshoot_ms"], d["connection"] or "-"))
    add("")
    add("## How each figure is measured")
    add("")
    add("- Launch to first answer: from just before the process is spawned to the first HTTP status line "
        "of `GET /sequence/last` (graceful-sequence answers 404 until its first value, one period after start, "
        "as the Go original's ticker does), polled every 10 ms with a fresh connection.")
    add("- SIGTERM to exit: `kill(pid, SIGTERM)` to `waitpid` returning, measured with `time.monotonic()`, "
        "5 s after ready with no traffic. graceful-sequence runs all seven shutdown steps (state-file write "
        "with fsync included).")
    add("- RSS: `VmRSS` from `/proc/<pid>/status`, 5 s after ready (idle) and right after the measured wrk run.")
    add("- Throughput and p99: wrk's `Requests/sec` and the 99% line of `--latency` (the measured run, after "
        "the warm-up); graceful-sequence answers with its `ETag`, wrk sends no `If-None-Match`, so every "
        "answer is a 200 with the body.")
    add("- Every process is started by the harness with its working directory under `bench/out/runs/` (the "
        "state files and logs land there), and ended by its PID.")
    add("")
    add("## Exact commands")
    add("")
    add("`$PORT` is a free port picked for each run.")
    add("")
    for variant, command in meta["commands"].items():
        add("- `%s`: `%s`" % (variant, command))
    add("- load: `wrk -t2 -c64 -d%ds http://127.0.0.1:$PORT/sequence/last` then "
        "`wrk -t2 -c64 -d%ds --latency http://127.0.0.1:$PORT/sequence/last`" % (meta["warmup_s"],
                                                                               meta["duration_s"]))
    if meta.get("fanout_scenarios"):
        add("- fan-out: the `gs-17-fanout` command with `--sequence.period=P`, and `bench/out/load fanout -port $PORT "
            "-streams N -seconds W -slice 10 -open-timeout 240` (N, P, W: %s)" % (
                "; ".join("%d, %s, %d" % (n, p, w) for _, n, p, w in meta["fanout_scenarios"])))
    else:
        add("- fan-out: the `gs-17-fanout` command with `--sequence.period=500ms`, and "
            "`python3 bench/streams.py --port $PORT --streams N --seconds %d`" % meta["fanout_seconds"])
    add("- AOT caches (Spring Boot's documented layout): `java -Djarmode=tools -jar x.jar extract --destination "
        "bench/out/aot/NAME/app`, then a training run with Java 25: graceful-sequence as its Dockerfile trains "
        "it, `deploy/aot/train.sh java -XX:MaxRAMPercentage=75.0 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError "
        "-XX:AOTCacheOutput=bench/out/aot/NAME/app.aot -jar bench/out/aot/NAME/app/x.jar` (every endpoint, a "
        "stream, a SIGTERM); spring-plain with `java -XX:AOTCacheOutput=bench/out/aot/NAME/app.aot "
        "-Dspring.context.exit=onRefresh -jar bench/out/aot/NAME/app/x.jar`.")
    add("")
    with open(doc, "w") as f:
        f.write("\n".join(md))
    print("wrote %s%s" % (doc, (" and " + chart) if chart_ok else ""))
    if os.path.abspath(doc) == DOC and os.path.exists(README):
        write_readme_block(data, table, README)


def target_words(target, peer):
    op, x = target
    return "%s %gx %s" % (op.replace(">=", "≥").replace("<=", "≤"), x, peer)


def readme_lines(data, table):
    """The README's block: the figures with a target, as ratios, with the run's date and machine."""
    meta = data["meta"]
    md = []
    add = md.append
    add("Headline ratios of the last full run of `bench/run.sh`, %s to %s: %d round(s), %d cores (%s)%s; "
        "graceful-sequence / peer, of the medians, with the range of the round-by-round ratios. The whole run, "
        "its commands and machine: [docs/benchmarks.md](docs/benchmarks.md); why a target is missed: "
        "[docs/decisions/](docs/decisions/README.md)." % (
            meta["started"], meta["finished"], meta["rounds"], meta["nproc"], meta["cpu"],
            " shared with other builds" if busy_machine(data) else ""))
    add("")
    add("| figure | graceful-sequence / peer | target |")
    add("|---|---|---|")
    for r in table:
        ratios, targets = [], []
        for target, ratio_key, pair_key, met_key, peer in (("target_sp", "r_sp", "paired_sp", "m_sp", SP_LABEL),
                                                           ("target_go", "r_go", "paired_go", "m_go", GO_LABEL)):
            if r[target] is None:
                continue
            ratios.append("%s %s" % (ratio_cell(r[ratio_key], r[pair_key]), peer))
            targets.append("%s: %s" % (target_words(r[target], peer), r[met_key]))
        if ratios:
            add("| %s | %s | %s |" % (r["title"], ", ".join(ratios), "; ".join(targets)))
    by_scenario = {}
    for record in data["extra"].get("fanout", []):
        by_scenario.setdefault(fanout_key(record), []).append(record)
    for key in sorted(by_scenario, key=lambda k: (k[0], -period_ms(k[1]))):
        target = FANOUT_TARGETS.get(key)
        if target is None:
            continue
        lag = [r.get("lag_p99_ms") for r in by_scenario[key]]
        met = med(lag) is not None and med(lag) <= target
        add("| Lag p99, %s streams at `--sequence.period=%s` (Java 17, `%s`) | %s ms | ≤ %g ms: %s |" % (
            "{:,}".format(key[0]), key[1], meta.get("fanout_flags", ""), cell(lag, "ms"), target,
            "met" if met else "**not met**"))
    return md


def write_readme_block(data, table, readme):
    """Writes the block between README_BEGIN and README_END, leaving the rest of the README as it is."""
    with open(readme) as f:
        text = f.read()
    start, stop = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or stop < start:
        print("%s has no block of headline ratios (%s ... %s): left as it is" % (readme, README_BEGIN, README_END))
        return
    block = "\n".join([README_BEGIN] + readme_lines(data, table) + [""])
    new = text[:start] + block + text[stop:]
    if new != text:
        with open(readme, "w") as f:
            f.write(new)
    print("wrote the headline ratios of %s" % readme)


# -- cluster mode (bench/cluster.sh) ----------------------------------------------------------


def histogram_quantile(buckets, q):
    """(value, bucket's lower bound, upper bound) in ms of a cumulative histogram in seconds,
    interpolated within the bucket as Prometheus' histogram_quantile does; None if empty."""
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank and count > below:
            if le == float("inf"):
                return (1000.0 * lower, 1000.0 * lower, le)
            return (1000.0 * (lower + (le - lower) * (rank - below) / (count - below)), 1000.0 * lower, 1000.0 * le)
        lower, below = le, count
    return None


def histogram_longest(buckets):
    """(lower, upper) bound in ms of the bucket of the longest value recorded."""
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return None
    lower = 0.0
    for le, count in buckets:
        if count >= total:
            return (1000.0 * lower, 1000.0 * le)
        lower = le
    return None


def merged(histograms):
    """Histograms of several windows as one (their counts add up, bound by bound)."""
    counts = {}
    for h in histograms:
        for le, count in h["buckets"]:
            counts[le] = counts.get(le, 0.0) + count
    return {"buckets": sorted(counts.items()), "count": sum(h["count"] for h in histograms),
            "sum_s": sum(h["sum_s"] for h in histograms)}


def signed(value):
    if value is None:
        return "n/a"
    return ("+" if value >= 0 else "-") + fmt(abs(value))


def diff_cell(a, b):
    """Median of a minus median of b, with the range of the round-by-round differences."""
    ma, mb = med(a), med(b)
    if ma is None or mb is None:
        return "n/a"
    pairs = [x - y for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 2:
        return "%s ms" % signed(ma - mb)
    return "%s ms (%s to %s)" % (signed(ma - mb), signed(min(pairs)), signed(max(pairs)))


def cluster_rounds(data):
    """(local record, cluster record) of every round that has both."""
    by_round = {}
    for record in data["records"]:
        by_round.setdefault(record["round"], {})[record["mode"]] = record
    return [(r["local"], r["cluster"]) for _, r in sorted(by_round.items()) if "local" in r and "cluster" in r]


def replicas_rounds(data):
    """(cluster record, replicas record) of every round that has both."""
    by_round = {}
    for record in data["records"]:
        by_round.setdefault(record["round"], {})[record["mode"]] = record
    return [(r["cluster"], r["replicas"]) for _, r in sorted(by_round.items()) if "cluster" in r and "replicas" in r]


def has_replicas(data):
    return any(record["mode"] == "replicas" for record in data["records"]) or \
        "replicas" in data["meta"].get("modes", [])


def cluster_lines(data):
    """The cluster section of docs/benchmarks.md, from bench/cluster.sh's results."""
    meta = data["meta"]
    rounds = cluster_rounds(data)
    md = []
    add = md.append
    add("## Cluster mode against local mode (bench/cluster.sh)")
    add("")
    add("One sequence through Redis against the same instances in local mode, side by side in one run: each "
        "round starts two instances of the jar in each mode, one mode after the other (%s), measures them and "
        "ends them by PID. In cluster mode the two share a Redis of the "
        "run's own (`redis-server %s` on a free loopback port, in the run's directory: append-only file, "
        "`appendfsync everysec`); instance 1 starts first and leads, instance 2 follows. In local mode they are "
        "two independent instances, each with its own sequence and state file (written with an fsync before "
        "each value is published; in cluster mode the state file is written in the background). Ratios and "
        "differences are cluster against local, of the medians, with the range of the round-by-round ratios "
        "or differences in brackets.%s" % (
            "in an order that rotates from round to round" if len(meta.get("modes", ["local", "cluster"])) > 2
            else "the other one first every other round", meta["redis_conf"],
            " A third mode, cluster mode with replicas, is in [What waiting for a replica costs]"
            "(#what-waiting-for-a-replica-costs)." if has_replicas(data) else ""))
    add("")
    add("- Date: %s to %s (%s min), mode `%s`, %d round(s)%s." % (
        meta["started"], meta["finished"], meta["minutes"], meta["mode"], meta["rounds"],
        "" if meta["rounds_planned"] == meta["rounds"] else " of %d planned" % meta["rounds_planned"]))
    add("- Machine: %d cores (`nproc`), %s, %.1f GiB RAM, Linux %s; shared with other tenants: 1-minute load "
        "average %s at the start, %s at the end. Before each measurement the harness waits (at most %.0f s) for "
        "the CPUs to be under %.0f%% busy: CPU busy at the start of the measurements median %.0f%%, max %.0f%%." % (
            meta["nproc"], meta["cpu"], meta["ram_gib"], meta["kernel"], meta["loadavg_start"][0],
            meta["loadavg_end"][0], meta["quiet_wait"], 100 * meta["quiet_busy"],
            100 * (med(cluster_busy(data)) or 0), 100 * max(cluster_busy(data) or [0])))
    add("- %s; %s; Redis: `%s`; %s; %s." % (
        meta["java17"][-1] if meta["java17"] else "?", meta["go"][0] if meta["go"] else "?",
        meta["redis"][0] if meta["redis"] else "?", meta["wrk"][0] if meta["wrk"] else "?",
        "Python " + meta["python"]))
    add("- Command: `%s`. Every instance: `java %s -jar %s --server.port=$PORT --server.address=127.0.0.1 "
        "--sequence.period=%s`, in cluster mode with `--sequence.cluster.enabled=true "
        "--spring.data.redis.url=redis://127.0.0.1:$REDIS_PORT`; `redis-server %s --port $REDIS_PORT --bind "
        "127.0.0.1 --dir . --daemonize no --logfile \"\"`%s." % (
            meta["command"], meta["fanout_flags"], meta["jar"], meta["period"], meta["redis_conf"],
            (" --hz %s" % meta["redis_hz"]) if meta.get("redis_hz") else ""))
    if data.get("failures"):
        add("- Failed runs (not in the figures): %s." % "; ".join(
            "%s round %s: %s" % (f["mode"], f["round"], f["error"]) for f in data["failures"]))
    add("")
    if not rounds:
        add("No round has both local and cluster mode.")
        add("")
        md.extend(replicas_lines(data))
        return md


    local = [r[0] for r in rounds]
    cluster = [r[1] for r in rounds]

    def ratio_row(title, path, target=None, better="higher"):
        a, b = pluck(path, cluster), pluck(path, local)
        r = ratio(med(a), med(b))
        t, m = ("", "")
        if target is not None:
            t = "≥ %gx" % target if better == "higher" else "≤ %gx" % target
            m = "n/a" if r is None else ("met" if (r >= target if better == "higher" else r <= target)
                                         else "**not met**")
        add("| %s | %s | %s | %s | %s | %s |" % (title, cell(b, ""), cell(a, ""), ratio_cell(r, paired(a, b)), t, m))

    def diff_row(title, path, target=None):
        a, b = pluck(path, cluster), pluck(path, local)
        d = None if med(a) is None or med(b) is None else med(a) - med(b)
        t, m = ("", "")
        if target is not None:
            t = "≤ +%g ms" % target
            m = "n/a" if d is None else ("met" if d <= target else "**not met** (by %s ms)" % fmt(d - target))
        add("| %s | %s | %s | %s | %s | %s |" % (title, cell(b, "ms"), cell(a, "ms"), diff_cell(a, b), t, m))

    streams = "{:,}".format(meta["streams"])
    # Runs of the load tool that had the kernel's arrival times (SO_TIMESTAMPNS) in every round
    arrivals = has_arrivals(local, cluster)
    add("### `/sequence/last` and the streams")
    add("")
    on = meta.get("streams_on", "1,2").split(",")
    where = ("on each of the two instances at once (%s in all)" % "{:,}".format(2 * meta["streams"])
             if len(on) == 2 else "on instance %s only (an experiment: the other instance has none)" % on[0])
    add("Throughput: wrk on instance 2 (in cluster mode the follower) while instance 1 runs beside it, `wrk -t2 "
        "-c64 -d%ds` then the measured `wrk -t2 -c64 -d%ds --latency`, as in the table at the top. Streams: %s "
        "%s, one client (`load fanout -ports`), a %d s window; lag "
        "is receipt - `emittedAt` of each value emitted in the window (in cluster mode `emittedAt` is Redis' "
        "clock at the append; both are whole milliseconds, so a lag reads up to 1 ms long).%s" % (
            meta["warmup_s"], meta["duration_s"], streams, where, meta["fanout_seconds"],
            " Two receipts: when the bytes reached the client's socket (the kernel's receive time, "
            "`SO_TIMESTAMPNS`; on loopback, the moment the instance's write put them there), and when the "
            "client's goroutine read them. The second adds the client's own queue: one process stands in for "
            "every client, on the same 2 cores as the instances, and in cluster mode the events of all its "
            "streams come at once, where two local instances, each on its own schedule, send half of them at "
            "a time. The targets are on the first, what the instances and the hop between them deliver; both "
            "are shown." if arrivals else ""))
    add("")
    add("| figure | local mode | cluster mode | cluster vs local | target | |")
    add("|---|---|---|---|---|---|")
    ratio_row("Throughput, `/sequence/last` on instance 2 (req/s)", ("throughput", "measured", "rps"), 0.95)
    ratio_row("p99 latency of that load (ms)", ("throughput", "measured", "p99_ms"), better="lower")
    lag_rows(diff_row, arrivals, streams, 5, 20)
    diff_row("Lag max (ms)", ("fanout", "lag_max_ms"))
    diff_row("Lag p50 on instance 1's streams (the leader's) (ms)", ("fanout", "instance-1", "lag_p50_ms"))
    diff_row("Lag p99 on instance 1's streams (ms)", ("fanout", "instance-1", "lag_p99_ms"))
    diff_row("Lag p50 on instance 2's streams (a follower's) (ms)", ("fanout", "instance-2", "lag_p50_ms"))
    diff_row("Lag p99 on instance 2's streams (ms)", ("fanout", "instance-2", "lag_p99_ms"))
    add("| Id violations / gaps (worst run) | %s | %s | | | |" % tuple(
        "%d / %d" % (max(pluck(("fanout", "id_violations"), rs)), max(pluck(("fanout", "gaps"), rs)))
        for rs in (local, cluster)))
    add("| Streams open with their first event (worst run) | %s | %s | | | |" % tuple(
        "%d" % min(pluck(("fanout", "opened_with_first_event"), rs)) for rs in (local, cluster)))
    add("| Cores over the measured wrk run: instance 2 / instance 1 / Redis / wrk and other tenants | %s | %s "
        "| | | |" % tuple(" / ".join(fmt(med([r["throughput"].get("cores", {}).get(k) or 0.0 for r in rs]))
                                    for k in ("instance-2", "instance-1", "redis", "wrk and others"))
                          for rs in (local, cluster)))
    add("| Cores over the streams' window: instances / Redis / client / other tenants | %s | %s | | | |" % tuple(
        " / ".join(fmt(med([(r["fanout"]["cores"].get(k) or 0.0) + (r["fanout"]["cores"].get(k2) or 0.0)
                            for r in rs])) for k, k2 in (("instance-1", "instance-2"), ("redis", None),
                                                         ("client", None), ("others", None)))
        for rs in (local, cluster)))
    add("")

    add("### A follower's delay behind the leader")
    add("")
    add("`sequence.cluster.delay` of each instance: the instance's clock when it received a value from its "
        "blocking `XREAD`, minus the value's `emittedAt` (Redis' clock at the append, whole milliseconds), so "
        "for the follower its delay behind the leader's append, and for the leader its own way back through "
        "the same read. From the Prometheus histogram, scraped when the window opens and when it closes (the "
        "values of the window only; the instance's `_max` also holds its start); p50 and p99 interpolated within "
        "Micrometer's buckets as Prometheus' `histogram_quantile` does, the longest as the bounds of its "
        "bucket. Per round, then the median (min-max) of the rounds; \"all rounds\" merges the rounds' "
        "histograms. The last row is the other way to see it: the fan-out lag on the follower's streams minus "
        "on the leader's, round by round.")
    add("")
    add("| instance, window | values | mean (ms) | p50 (ms) | p99 (ms) | longest (ms) | all rounds: p50 / p99 / "
        "longest (ms) |")
    add("|---|---|---|---|---|---|---|")

    def delay_row(title, histograms):
        histograms = [h for h in histograms if h]
        if not histograms:
            add("| %s | n/a | | | | | |" % title)
            return
        p50 = [histogram_quantile(h["buckets"], 0.5) for h in histograms]
        p99 = [histogram_quantile(h["buckets"], 0.99) for h in histograms]
        longest = [histogram_longest(h["buckets"]) for h in histograms]
        means = [1000.0 * h["sum_s"] / h["count"] if h["count"] else None for h in histograms]
        everything = merged(histograms)
        q50, q99 = histogram_quantile(everything["buckets"], 0.5), histogram_quantile(everything["buckets"], 0.99)
        top = histogram_longest(everything["buckets"])
        add("| %s | %s | %s | %s | %s | %s | %s / %s / %s |" % (
            title, cell([h["count"] for h in histograms], "count"), cell(means, "ms"),
            cell([x and x[0] for x in p50], "ms"), cell([x and x[0] for x in p99], "ms"),
            "%s-%s" % (fmt(max(x[0] for x in longest if x)), fmt(max(x[1] for x in longest if x)))
            if any(longest) else "n/a",
            fmt(q50 and q50[0]), fmt(q99 and q99[0]),
            ("%s-%s" % (fmt(top[0]), fmt(top[1]))) if top else "n/a"))

    delay_row("follower (instance 2), %s streams on each" % streams, pluck(("fanout", "delay", "instance-2"), cluster))
    delay_row("leader (instance 1), %s streams on each" % streams, pluck(("fanout", "delay", "instance-1"), cluster))
    delay_row("follower, no client (the Redis window)", pluck(("redis", "instances", "follower", "delay_idle"),
                                                              cluster))
    delay_row("leader, no client", pluck(("redis", "instances", "leader", "delay_idle"), cluster))
    d50 = [a - b for a, b in zip(pluck(("fanout", "instance-2", "lag_p50_ms"), cluster),
                                 pluck(("fanout", "instance-1", "lag_p50_ms"), cluster)) if a is not None and b is not None]
    d99 = [a - b for a, b in zip(pluck(("fanout", "instance-2", "lag_p99_ms"), cluster),
                                 pluck(("fanout", "instance-1", "lag_p99_ms"), cluster)) if a is not None and b is not None]
    add("| fan-out lag, follower's streams minus leader's | | | %s | %s | | |" % (
        signed_cell(d50), signed_cell(d99)))
    add("")
    stable = sum(1 for r in cluster if (r["fanout"].get("leader_at_end") or {}).get("instance-1") == 1.0
                 and (r["fanout"].get("leader_at_end") or {}).get("instance-2") == 0.0)
    errors = pluck(("fanout", "redis_errors"), cluster)
    add("Instance 1 led at the end of the streams' window in %d of %d rounds. Redis calls that failed during "
        "that window (`sequence_cluster_redis_errors_total`), instance 1 / instance 2: %s." % (
            stable, len(cluster), ", ".join("%d / %d" % (e.get("instance-1", 0), e.get("instance-2", 0))
                                            for e in errors if e)))
    add("")

    add("### What Redis does for each value")
    add("")
    add("In cluster mode, between the throughput and the streams, a %d s window with no client: every command "
        "that reaches Redis, from `MONITOR` on a connection of the harness's own (Redis' own clock on every line, "
        "so the window is exact; a script's commands follow its `EVALSHA`, named by the SHA1 of the scripts in "
        "`src/main/resources/cluster/`), attributed to an instance by its connection (the client port, whose "
        "process `ss -tinp` names); the TCP payload bytes of each connection from the kernel (`ss -ti`: "
        "`bytes_acked` to Redis, `bytes_received` from it, sampled every 100 ms: Redis 7.0's `CLIENT LIST` has "
        "no byte counters per client); divided by the values appended in the window (the `XADD`s of the append "
        "script). Below them, Redis' own totals over the same window (`INFO stats` and `INFO commandstats` "
        "deltas, less the harness's own connections), every instance together: the difference from the sum of "
        "the instances' rows is what the sampling missed (connections opened and closed between two samples). "
        "\"Reading connections\": the connections on which the instance sent `XREAD`. `timed-out reads` is the delta of "
        "`sequence_cluster_redis_errors_total`, each a blocking read that Lettuce gave up on (the instance "
        "closes that connection and reads again on a new one). Median (min-max) of the rounds." %
        meta["redis_seconds"])
    add("")
    add("| instance | values in the window | commands sent per value (by command) | commands run by its scripts "
        "per value | bytes to Redis per value | bytes from Redis per value | connections opened per value | "
        "timed-out reads per value |")
    add("|---|---|---|---|---|---|---|---|")
    windows = [r["redis"] for r in cluster if r.get("redis")]
    for role in ("leader", "follower"):
        per_value = []
        for w in windows:
            i, v = w["instances"][role], float(max(1, w["values"]))
            scripts = {}
            for table in i["in_scripts"].values():
                for command, count in table.items():
                    scripts[command] = scripts.get(command, 0) + count
            per_value.append({"calls": {k: c / v for k, c in i["calls"].items()}, "total": sum(i["calls"].values()) / v,
                              "scripts": sum(scripts.values()) / v, "to": i["bytes"]["to_redis"] / v,
                              "from": i["bytes"]["from_redis"] / v,
                              "reader_to": i["bytes"]["by_kind"].get("reader", {}).get("to_redis", 0) / v,
                              "reader_from": i["bytes"]["by_kind"].get("reader", {}).get("from_redis", 0) / v,
                              "opened": i["bytes"]["connections_opened"] / v, "errors": i["redis_errors"] / v,
                              "values": w["values"]})
        commands = sorted({k for p in per_value for k in p["calls"]},
                          key=lambda k: -(med([p["calls"].get(k, 0.0) for p in per_value]) or 0))
        add("| %s | %s | %s (%s) | %s | %s | %s | %s | %s |" % (
            role, cell([p["values"] for p in per_value], "count"), cell([p["total"] for p in per_value], ""),
            ", ".join("%s %s" % (command_name(k), fmt(med([p["calls"].get(k, 0.0) for p in per_value])))
                      for k in commands),
            cell([p["scripts"] for p in per_value], ""),
            "%s, reading connections %s" % (cell([p["to"] for p in per_value], ""),
                                            fmt(med([p["reader_to"] for p in per_value]))),
            "%s, reading connections %s" % (cell([p["from"] for p in per_value], ""),
                                            fmt(med([p["reader_from"] for p in per_value]))),
            cell([p["opened"] for p in per_value], ""),
            cell([p["errors"] for p in per_value], "")))
    totals = []
    for w in windows:
        v = float(max(1, w["values"]))
        stats = w["totals"]["commandstats"]
        clientside = {k: c for k, c in stats.items() if k not in ("info", "time", "monitor", "client|list", "ping")}
        totals.append({"calls": sum(clientside.values()) / v, "in": w["totals"]["net_input_bytes"] / v,
                       "out": w["totals"]["net_output_bytes"] / v, "conn": w["totals"]["connections_received"] / v,
                       "evalsha": stats.get("evalsha", 0) / v, "xread": stats.get("xread", 0) / v})
    add("| every instance, Redis' `INFO` | | %s (every command Redis ran, scripts' included; evalsha %s, xread %s) "
        "| | %s | %s | %s | |" % (
            cell([t["calls"] for t in totals], ""), fmt(med([t["evalsha"] for t in totals])),
            fmt(med([t["xread"] for t in totals])), cell([t["in"] for t in totals], ""),
            cell([t["out"] for t in totals], ""), cell([t["conn"] for t in totals], "")))
    add("")
    seconds = med([w["seconds"] for w in windows]) or 1.0
    values = med([w["values"] for w in windows]) or 1.0
    add("At a %s period a value comes every %.0f ms (%s values in a %.0f s window); the lease's renewal (every "
        "lease/3), a follower's attempt to take it (about once a lease) and a blocking read that ends empty come "
        "with time, not with values, so at a longer period they weigh more per value." % (
            meta["period"], 1000.0 * seconds / values, fmt(values), seconds))
    add("")
    md.extend(replicas_lines(data))
    return md


def has_arrivals(*runs):
    """Whether every round of these runs had the kernel's arrival times (load fanout with SO_TIMESTAMPNS)."""
    return all(v is not None for records in runs for v in pluck(("fanout", "arrival_lag_p50_ms"), records))


def lag_rows(row, arrivals, streams, p50_target=None, p99_target=None):
    """The streams' lag rows of a side-by-side table: with arrival times, the lag to the client's socket,
    which the targets judge, and the lag to its read beside it; without them (an older load tool), the
    lag to the read, judged. row(title, path[, target]) adds a row."""
    def add(title, path, target):
        row(title, path, *([] if target is None else [target]))
    each = "%s streams on each instance" % streams
    if arrivals:
        add("Lag p50 to the client's socket, %s (ms)" % each, ("fanout", "arrival_lag_p50_ms"), p50_target)
        add("Lag p99 to the client's socket (ms)", ("fanout", "arrival_lag_p99_ms"), p99_target)
        add("Lag p50 to the client's read, %s (ms)" % each, ("fanout", "lag_p50_ms"), None)
        add("Lag p99 to the client's read (ms)", ("fanout", "lag_p99_ms"), None)
    else:
        add("Lag p50, %s (ms)" % each, ("fanout", "lag_p50_ms"), p50_target)
        add("Lag p99, %s (ms)" % each, ("fanout", "lag_p99_ms"), p99_target)


def pluck(path, records):
    """The value at path (keys) of each record, None where it has none."""
    values = []
    for record in records:
        value = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        values.append(value)
    return values


def plain_diff_cell(a, b, unit=""):
    """diff_cell without " ms": median of a minus median of b, the round-by-round range."""
    def sign(value):
        return ("+" if value >= 0 else "-") + fmt(abs(value), unit)

    ma, mb = med(a), med(b)
    if ma is None or mb is None:
        return "n/a"
    pairs = [x - y for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 2:
        return sign(ma - mb)
    return "%s (%s to %s)" % (sign(ma - mb), sign(min(pairs)), sign(max(pairs)))


def command_name(name):
    """A command as INFO commandstats names it (client|id), readable in a table's cell."""
    return name.replace("|", " ")


def leader_commands(window):
    """The leader's commands per value in a Redis window: (total, {command: per value})."""
    if not window:
        return None
    calls, v = window["instances"]["leader"]["calls"], float(max(1, window["values"]))
    return sum(calls.values()) / v, {k: c / v for k, c in calls.items()}


def replicas_lines(data):
    """The subsection of the cluster section on replicas mode (cluster mode with
    sequence.cluster.replicas on a primary with replicas) against cluster mode; nothing for
    results without replicas mode."""
    if not has_replicas(data):
        return []
    meta = data["meta"]
    pairs = replicas_rounds(data)
    md = []
    add = md.append
    add("### What waiting for a replica costs")
    add("")
    replicas = [r[1] for r in pairs]
    waited = [(r.get("replication_start") or {}).get("seconds") for r in replicas]
    add("Replicas mode, in the same rounds as the other modes: the same two instances in cluster mode with "
        "`--sequence.cluster.replicas=%d`, on a primary started as in cluster mode (`redis-server %s --port "
        "$REDIS_PORT --bind 127.0.0.1 --dir . --daemonize no --logfile \"\"`) plus %s replicas of it, each "
        "`redis-server %s --port $REPLICA_PORT --bind 127.0.0.1 --dir . --daemonize no --logfile \"\" --replicaof "
        "127.0.0.1 $REDIS_PORT%s` on a free loopback port and in a directory of its own; the instances start once "
        "the primary's `INFO replication` shows every replica `state=online` (%s s after the replicas' start, the "
        "first full synchronisation), and each process is ended by its PID (the instances, the replicas, then "
        "the primary). The last section of `%s` stays commented (no `min-replicas-to-write`, no Sentinel): what "
        "this measures is the leader's work for each value, which stages it in `pending`, runs `WAIT %d "
        "<timeout>` on its own connection between two `CLIENT ID`s, then moves it into `values` with the "
        "`commit` script, before any instance receives it; a value's `emittedAt` is Redis' clock when it is "
        "staged, so the lag and the delay below include the wait and the commit. Every process is on this "
        "machine, so each replica's "
        "acknowledgement crosses the loopback interface only: across machines the wait is longer by their round "
        "trip. The same Redis window (`MONITOR` on the primary, no client) and the same streams as in cluster "
        "mode; no wrk run in this mode (`/sequence/last` is served from memory, off the write path), so instance "
        "2 gets its streams without the wrk load that comes before them in the other modes. Differences are "
        "replicas against cluster mode, of the medians, with the range of the round-by-round differences in "
        "brackets." % (
            meta.get("wait_replicas", 1), meta["redis_conf"],
            {1: "one", 2: "two", 3: "three"}.get(meta.get("replicas", 2), meta.get("replicas", 2)), meta["redis_conf"],
            (" --hz %s" % meta["redis_hz"]) if meta.get("redis_hz") else "", cell(waited, ""), meta["redis_conf"],
            meta.get("wait_replicas", 1)))
    add("")
    if not pairs:
        add("No round has both cluster and replicas mode.")
        add("")
        return md
    cluster = [r[0] for r in pairs]
    streams = "{:,}".format(meta["streams"])

    def diff_row(title, path):
        a, b = pluck(path, replicas), pluck(path, cluster)
        add("| %s | %s | %s | %s |" % (title, cell(b, "ms"), cell(a, "ms"), diff_cell(a, b)))

    def quantile_row(title, path, q):
        def quantiles(records):
            return [histogram_quantile(h["buckets"], q) if h else None for h in pluck(path, records)]
        a = [x and x[0] for x in quantiles(replicas)]
        b = [x and x[0] for x in quantiles(cluster)]
        add("| %s | %s | %s | %s |" % (title, cell(b, "ms"), cell(a, "ms"), diff_cell(a, b)))

    add("| figure | cluster mode (one Redis) | replicas mode (a primary, %d replicas, `WAIT %d`) | replicas vs "
        "cluster |" % (meta.get("replicas", 2), meta.get("wait_replicas", 1)))
    add("|---|---|---|---|")
    lag_rows(diff_row, has_arrivals(replicas, cluster), streams)
    diff_row("Lag max (ms)", ("fanout", "lag_max_ms"))
    diff_row("Lag p50 on instance 1's streams (the leader's) (ms)", ("fanout", "instance-1", "lag_p50_ms"))
    diff_row("Lag p99 on instance 1's streams (ms)", ("fanout", "instance-1", "lag_p99_ms"))
    diff_row("Lag p50 on instance 2's streams (a follower's) (ms)", ("fanout", "instance-2", "lag_p50_ms"))
    diff_row("Lag p99 on instance 2's streams (ms)", ("fanout", "instance-2", "lag_p99_ms"))
    quantile_row("Follower's (instance 2's) `sequence.cluster.delay` p50, streams' window (ms)",
                 ("fanout", "delay", "instance-2"), 0.5)
    quantile_row("Follower's `sequence.cluster.delay` p99, streams' window (ms)",
                 ("fanout", "delay", "instance-2"), 0.99)
    quantile_row("Leader's (instance 1's) `sequence.cluster.delay` p50, streams' window (ms)",
                 ("fanout", "delay", "instance-1"), 0.5)
    quantile_row("Leader's `sequence.cluster.delay` p99, streams' window (ms)",
                 ("fanout", "delay", "instance-1"), 0.99)

    def stage(records, key, q):
        found = []
        for intervals in pluck(("redis", "stage_to_commit", key), records):
            found.append(statistics.quantiles(intervals, n=100, method="inclusive")[int(round(q * 100)) - 1]
                         if intervals and len(intervals) > 1 else (intervals[0] if intervals else None))
        return found

    add("| Leader's staging to its commit, by Redis' clock (`MONITOR`, no client): the `append` script's call "
        "to the `commit` script's, p50 / p99 (ms) | n/a (no staging) | %s / %s | |" % (
            cell(stage(replicas, "append_to_commit_ms", 0.5), "ms"),
            cell(stage(replicas, "append_to_commit_ms", 0.99), "ms")))
    add("| of which from the `WAIT`'s line to the `commit` script's, p50 / p99 (ms) | | %s / %s | |" % (
        cell(stage(replicas, "wait_to_commit_ms", 0.5), "ms"), cell(stage(replicas, "wait_to_commit_ms", 0.99),
                                                                       "ms")))

    def commands(records):
        found = [leader_commands(w) for w in pluck(("redis",), records)]
        totals = [f and f[0] for f in found]
        names = sorted({k for f in found if f for k in f[1]},
                       key=lambda k: (-(med([f[1].get(k, 0.0) for f in found if f]) or 0), k))
        return totals, "%s (%s)" % (cell(totals, ""), ", ".join(
            "%s %s" % (command_name(k), fmt(med([f[1].get(k, 0.0) for f in found if f]))) for k in names))

    (b_totals, b_text), (a_totals, a_text) = commands(cluster), commands(replicas)
    add("| Leader's Redis commands per value (`MONITOR`, no client; by command) | %s | %s | %s |" % (
        b_text, a_text, plain_diff_cell(a_totals, b_totals)))

    def stalls(records):
        return [(r["fanout"].get("commit_stalls") or {}).get("instance-1", 0)
                + ((r.get("redis") or {}).get("instances", {}).get("leader", {}).get("commit_stalls") or 0)
                if r["fanout"].get("commit_stalls") is not None else None for r in records]

    add("| Commit stalls of the leader (`sequence_cluster_commit_stalls_total`, delta over the Redis window and "
        "the streams' window) | %s | %s | %s |" % (cell(stalls(cluster), "count"), cell(stalls(replicas), "count"),
                                                     plain_diff_cell(stalls(replicas), stalls(cluster), "count")))
    acknowledged = pluck(("fanout", "replicas_acknowledged_at_end", "instance-1"), replicas)
    add("| Replicas that acknowledged the leader's latest value at the end of the streams' window "
        "(`sequence_cluster_replicas_acknowledged`), by round | n/a (values do not wait) | %s | |" % (
            ", ".join("n/a" if v is None else "%.0f" % v for v in acknowledged)))
    add("| Id violations / gaps (worst run) | %s | %s | |" % tuple(
        "%d / %d" % (max(pluck(("fanout", "id_violations"), rs)), max(pluck(("fanout", "gaps"), rs)))
        for rs in (cluster, replicas)))
    add("| Streams open with their first event (worst run) | %s | %s | |" % tuple(
        "%d" % min(pluck(("fanout", "opened_with_first_event"), rs)) for rs in (cluster, replicas)))
    add("| Cores over the streams' window: instances / Redis primary / replicas / client / other tenants | %s | "
        "%s | |" % tuple(
            " / ".join(fmt(med([sum(r["fanout"]["cores"].get(k) or 0.0 for k in keys) for r in rs]))
                       for keys in (("instance-1", "instance-2"), ("redis",),
                                    ("redis-replica-1", "redis-replica-2"), ("client",), ("others",)))
            for rs in (cluster, replicas)))
    add("")
    stable = sum(1 for r in replicas if (r["fanout"].get("leader_at_end") or {}).get("instance-1") == 1.0
                 and (r["fanout"].get("leader_at_end") or {}).get("instance-2") == 0.0)
    errors = pluck(("fanout", "redis_errors"), replicas)
    failovers = pluck(("fanout", "redis_failovers"), replicas)
    add("In replicas mode instance 1 led at the end of the streams' window in %d of %d rounds. Redis calls that "
        "failed during that window (`sequence_cluster_redis_errors_total`), instance 1 / instance 2: %s; Redis "
        "failovers seen (`sequence_cluster_redis_failovers_total`, since the start): %s." % (
            stable, len(replicas), ", ".join("%d / %d" % (e.get("instance-1", 0), e.get("instance-2", 0))
                                             for e in errors if e),
            ", ".join("%d / %d" % (f.get("instance-1", 0), f.get("instance-2", 0)) for f in failovers if f)))
    add("")
    return md


def cluster_busy(data):
    found = []
    for record in data["records"]:
        for key in ("throughput", "fanout"):
            if record.get(key) and record[key].get("busy_before") is not None:
                found.append(record[key]["busy_before"])
    return found


def signed_cell(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return signed(values[0])
    return "%s (%s to %s)" % (signed(med(values)), signed(min(values)), signed(max(values)))


CHART_ROWS = [
    ("Throughput (J17)", "rps", "gs-17"),
    ("p99 latency (J17)", "p99_ms", "gs-17"),
    ("Launch, J17 java -jar", "launch_ms", "gs-17"),
    ("Launch, J25 + AOT cache", "launch_ms", "gs-25-aot"),
    ("Launch, J25 + AOT cache, C1 only", "launch_ms", "gs-25-aot-c1"),
    ("SIGTERM to exit, idle", "idle_exit_ms", "gs-17"),
    ("Drain overshoot", "drain_overshoot_ms", "gs-17"),
    ("Drain overshoot, J25 + AOT", "drain_overshoot_ms", "gs-25-aot"),
    ("RSS idle, defaults", "rss_idle_mib", "gs-17"),
    ("RSS idle, recommended flags", "rss_idle_mib", "gs-17-lean"),
    ("Throughput, Boot's Tomcat defaults", "rps", "gs-17-boot-tomcat"),
]


def chart_data(table):
    found = []
    for label, key, gv in CHART_ROWS:
        for r in table:
            if r["key"] == key and r["gv"] == gv:
                target = None
                if r["target_sp"] and r["target_sp"][0] != "abs<":
                    target = r["target_sp"][1]
                found.append((label + (" (higher is better)" if r["better"] == "higher" else ""),
                              r["r_sp"], r["r_go"], target, r["m_sp"]))
                break
    return found


def draw(table, path):
    data = chart_data(table)
    try:
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["svg.hashsalt"] = "graceful-sequence"
        import matplotlib.pyplot as plt
    except ImportError:
        return draw_svg(data, path)
    labels = [d[0] for d in data]
    y = list(range(len(data)))
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(data) + 1.8))
    sp = [d[1] or 0 for d in data]
    go = [d[2] or 0 for d in data]
    colors = ["#2e7d32" if d[4] == "met" else ("#c62828" if "not met" in (d[4] or "") else "#1565c0")
              for d in data]
    ax.barh([v - 0.18 for v in y], sp, height=0.36, color=colors)
    ax.barh([v + 0.18 for v in y], go, height=0.36, color="#9e9e9e")
    for i, d in enumerate(data):
        if d[3] is not None:
            ax.plot([d[3], d[3]], [i - 0.42, i + 0.06], color="black", linewidth=2)
        if d[1]:
            ax.text(d[1] * 1.06, i - 0.18, "%.2fx vs spring-plain" % d[1], va="center", fontsize=8)
        if d[2]:
            ax.text(d[2] * 1.06, i + 0.18, "%.2fx vs go-seed" % d[2], va="center", fontsize=8, color="#616161")
    ax.axvline(1.0, color="#424242", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlim(right=max([v for v in sp + go if v] + [10.0]) * 12)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel("graceful-sequence / peer, log scale")
    ax.set_title("graceful-sequence / peer (medians of one run)\n"
                 "upper bar: vs spring-plain (green: target met, red: not met, blue: no target; "
                 "black tick: the target)\nlower grey bar: vs go-seed", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.endswith(".svg") else None)
    plt.close(fig)
    return True


def draw_svg(data, path):
    """Hand-written SVG when matplotlib is not there: ratios vs spring-plain on a log scale."""
    import math
    width, row, left = 760, 34, 250
    height = row * len(data) + 60
    lo, hi = 0.01, 100.0

    def x(v):
        v = min(max(v, lo), hi)
        return left + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (width - left - 60)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
             'font-size="12">' % (width, height),
             '<text x="10" y="20" font-size="14">graceful-sequence / spring-plain (log scale; '
             'black tick: target)</text>']
    for i, (label, r_sp, r_go, target, met) in enumerate(data):
        top = 35 + i * row
        color = "#2e7d32" if met == "met" else ("#c62828" if "not met" in (met or "") else "#1565c0")
        parts.append('<text x="10" y="%d">%s</text>' % (top + 17, label))
        if r_sp:
            parts.append('<rect x="%.1f" y="%d" width="%.1f" height="20" fill="%s"/>' % (
                x(lo), top + 4, x(r_sp) - x(lo), color))
            parts.append('<text x="%.1f" y="%d">%.2fx</text>' % (x(r_sp) + 4, top + 18, r_sp))
        if target:
            parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black" stroke-width="2"/>' % (
                x(target), x(target), top, top + 28))
    parts.append('<line x1="%.1f" x2="%.1f" y1="30" y2="%d" stroke="#424242" stroke-dasharray="4"/>' % (
        x(1), x(1), height - 10))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return True
