#!/usr/bin/python3
"""Prints bench/run.sh's tables (Markdown) from its raw results.

usage: report.py RESULTS_TSV [--engine JSON ... | --engine-note TEXT] [--rss FILE ...] [--planning "DIRECT REWRITTEN"]
                 [--clock-ticks HZ]

RESULTS_TSV: one pgbench run a line: round mode clients target tps latency_ms [others_pct [others_before_pct
             [transactions utime stime switches utime stime switches [syscalls]]]]
             (others: share of all CPUs used by processes other than the benchmark's, during the run; then the
             proxy process's CPU ticks and context switches before and after the run, and its system calls
             during it, `-` for direct)
--engine:    Google Benchmark JSON written with --benchmark_repetitions and aggregates (any number of files)
--rss:       label:file, file holding idle_conns.py's line `before after n per_conn`
"""
import argparse
import json
import statistics
from collections import defaultdict

TARGETS = ["direct", "pgbouncer", "pgsoftdelete"]
# PgBouncer running the SELECT that pgsoftdelete sends: what the rewrite costs PostgreSQL, hop aside.
REWRITTEN = "pgbouncer-rewritten"
MODES = ["simple", "extended", "prepared", "join"]
# Issue 12's targets: at 8 clients pgsoftdelete's TPS over PgBouncer's, at 1 client its added latency over
# PgBouncer's, per mode; PostgreSQL's planning overhead of the rewritten SELECT; per transaction, the proxy's
# system calls, its CPU (≤ PgBouncer's) and context switches (≤ PgBouncer's + 0.1).
TPS_OVER_BOUNCER_MIN = {"simple": 1.0, "extended": 1.0, "prepared": 1.15, "join": 1.0}
ADDED_LATENCY_RATIO_MAX = {"simple": 1.0, "extended": 1.0, "prepared": 0.60}
PLANNING_OVERHEAD_MAX_US = 3.0
SYSCALLS_PER_TXN_MAX = 5.0
SWITCHES_OVER_BOUNCER_MAX = 0.1
RSS_PER_CONN_MAX_KIB = 64.0


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--engine", action="append", default=[])
    ap.add_argument("--engine-note")
    ap.add_argument("--rss", action="append", default=[])
    ap.add_argument("--planning")
    ap.add_argument("--clock-ticks", type=float, default=100.0)
    a = ap.parse_args()

    # runs[(mode, clients, target)] = {round: (tps, lat_ms)}
    runs = defaultdict(dict)
    # cost[(mode, clients, target)] = [(cpu_us_per_txn, switches_per_txn, syscalls_per_txn), ...] of the proxy
    cost = defaultdict(list)
    others = []
    with open(a.results) as f:
        for line in f:
            if not line.strip():
                continue
            rnd, mode, clients, target, tps, lat, *rest = line.split()
            runs[(mode, int(clients), target)][int(rnd)] = (float(tps), float(lat))
            if rest:
                others.append(float(rest[0]))
            if len(rest) >= 9 and rest[3] != "-":
                n = float(rest[2])
                u1, s1, c1, u2, s2, c2 = (float(x) for x in rest[3:9])
                if n > 0:
                    cpu_us = ((u2 - u1) + (s2 - s1)) / a.clock_ticks * 1e6 / n
                    sys = float(rest[9]) / n if len(rest) >= 10 and rest[9] != "-" else float("nan")
                    cost[(mode, int(clients), target)].append((cpu_us, (c2 - c1) / n, sys))
    client_counts = sorted({k[1] for k in runs})
    rounds = sorted({r for v in runs.values() for r in v})

    def med(mode, c, t, i):
        vals = [v[i] for v in runs[(mode, c, t)].values()]
        return statistics.median(vals) if vals else float("nan")

    print(f"### pgbench -S: medians over {len(rounds)} round(s)\n")
    print("| mode | clients | direct TPS | PgBouncer TPS | pgsoftdelete TPS "
          "| direct lat ms | PgBouncer lat ms | pgsoftdelete lat ms | pgsd/direct TPS | pgsd/PgBouncer TPS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in MODES:
        for c in client_counts:
            if (mode, c, "direct") not in runs:
                continue
            tps = {t: med(mode, c, t, 0) for t in TARGETS}
            lat = {t: med(mode, c, t, 1) for t in TARGETS}
            print(f"| {mode} | {c} | {tps['direct']:.0f} | {tps['pgbouncer']:.0f} | {tps['pgsoftdelete']:.0f} "
                  f"| {lat['direct']:.3f} | {lat['pgbouncer']:.3f} | {lat['pgsoftdelete']:.3f} "
                  f"| {tps['pgsoftdelete'] / tps['direct']:.2f} | {tps['pgsoftdelete'] / tps['pgbouncer']:.2f} |")

    if 1 in client_counts:
        print("\n### 1 client: added latency per round trip over direct "
              "(median of the per-round differences of mean latency)\n")
        print("| mode | PgBouncer +µs | pgsoftdelete +µs | pgsd/PgBouncer | target |")
        print("|---|---:|---:|---:|---|")
        for mode in MODES:
            d = runs.get((mode, 1, "direct"))
            if not d:
                continue
            added = {}
            for t in ("pgbouncer", "pgsoftdelete"):
                diffs = [(runs[(mode, 1, t)][r][1] - d[r][1]) * 1000.0
                         for r in d if r in runs[(mode, 1, t)]]
                added[t] = statistics.median(diffs)
            ratio = added["pgsoftdelete"] / added["pgbouncer"] if added["pgbouncer"] > 0 else float("inf")
            limit = ADDED_LATENCY_RATIO_MAX[mode]
            print(f"| {mode} | {added['pgbouncer']:.1f} | {added['pgsoftdelete']:.1f} | {ratio:.2f} "
                  f"| ≤ {limit:.2f}: {verdict(ratio <= limit)} |")

    def cost_med(mode, c, t, i):
        vals = [v[i] for v in cost.get((mode, c, t), []) if v[i] == v[i]]
        return statistics.median(vals) if vals else float("nan")

    multi = [c for c in client_counts if c > 1]
    for c in multi:
        print(f"\n### {c} clients: TPS and the proxies' cost per transaction\n")
        print("| mode | pgsd/PgBouncer TPS | target | pgsd/direct TPS | PgBouncer/direct TPS "
              "| CPU µs PgBouncer / pgsd | switches PgBouncer / pgsd | syscalls PgBouncer / pgsd |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for mode in MODES:
            if (mode, c, "direct") not in runs:
                continue
            tps = {t: med(mode, c, t, 0) for t in TARGETS}
            rb = tps["pgsoftdelete"] / tps["pgbouncer"]
            rd = tps["pgsoftdelete"] / tps["direct"]
            target = f"≥ {TPS_OVER_BOUNCER_MIN[mode]:.2f}: {verdict(rb >= TPS_OVER_BOUNCER_MIN[mode])}" if c == 8 else "-"
            cb, cx = cost_med(mode, c, "pgbouncer", 0), cost_med(mode, c, "pgsoftdelete", 0)
            wb, wx = cost_med(mode, c, "pgbouncer", 1), cost_med(mode, c, "pgsoftdelete", 1)
            sb, sx = cost_med(mode, c, "pgbouncer", 2), cost_med(mode, c, "pgsoftdelete", 2)
            print(f"| {mode} | {rb:.2f} | {target} | {rd:.2f} | {tps['pgbouncer'] / tps['direct']:.2f} "
                  f"| {cb:.1f} / {cx:.1f} | {wb:.2f} / {wx:.2f} | {sb:.2f} / {sx:.2f} |")
        if c == 8:
            rows = [m for m in MODES if (m, c, "pgsoftdelete") in cost]
            cpu_ok = all(cost_med(m, c, "pgsoftdelete", 0) <= cost_med(m, c, "pgbouncer", 0) for m in rows)
            sw_ok = all(cost_med(m, c, "pgsoftdelete", 1) <= cost_med(m, c, "pgbouncer", 1) + SWITCHES_OVER_BOUNCER_MAX
                        for m in rows)
            sys_vals = [cost_med(m, c, "pgsoftdelete", 2) for m in rows]
            sys_ok = bool(sys_vals) and all(v <= SYSCALLS_PER_TXN_MAX for v in sys_vals)
            print(f"\nTargets at 8 clients, every mode: proxy CPU per transaction ≤ PgBouncer's: {verdict(cpu_ok)}; "
                  f"context switches ≤ PgBouncer's + {SWITCHES_OVER_BOUNCER_MAX}: {verdict(sw_ok)}; "
                  f"system calls ≤ {SYSCALLS_PER_TXN_MAX:.0f}: "
                  f"{verdict(sys_ok) if all(v == v for v in sys_vals) else 'not measured'}.")

    if any(k[2] == REWRITTEN for k in runs):
        print("\n### Where the difference comes from\n")
        if a.planning:
            direct_ms, rewritten_ms = (float(x) for x in a.planning.split())
            overhead = (rewritten_ms - direct_ms) * 1000
            print(f"PostgreSQL's planning time for pgbench's SELECT (median of 200 `EXPLAIN (ANALYZE, SUMMARY)`): "
                  f"{direct_ms * 1000:.0f} µs as written (direct), {rewritten_ms * 1000:.0f} µs as rewritten "
                  f"(through pgsoftdelete): {overhead:+.0f} µs per statement planned "
                  "(every statement in simple and extended mode; prepared mode plans once); target ≤ "
                  f"{PLANNING_OVERHEAD_MAX_US:.0f} µs: {verdict(overhead <= PLANNING_OVERHEAD_MAX_US)}.\n")
        print("PgBouncer+rw is PgBouncer running the SELECT that pgsoftdelete sends (from its debug log) in the same "
              "rounds: the rewrite's cost to PostgreSQL with PgBouncer's hop. pgsd/(PgBouncer+rw) compares the two "
              "hops alone. Proxy CPU is the proxy process's user + system time per transaction "
              "(/proc, all threads), switches its context switches per transaction; medians over the rounds.\n")
        print("| mode | clients | PgBouncer TPS | PgBouncer+rw TPS | pgsoftdelete TPS | pgsd/(PgBouncer+rw) "
              "| PgBouncer CPU µs | pgsd CPU µs | PgBouncer switches | pgsd switches |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

        for mode in MODES:
            for c in client_counts:
                if (mode, c, REWRITTEN) not in runs:
                    continue
                b, rw, x = (med(mode, c, t, 0) for t in ("pgbouncer", REWRITTEN, "pgsoftdelete"))
                print(f"| {mode} | {c} | {b:.0f} | {rw:.0f} | {x:.0f} | {x / rw:.2f} "
                      f"| {cost_med(mode, c, 'pgbouncer', 0):.1f} | {cost_med(mode, c, 'pgsoftdelete', 0):.1f} "
                      f"| {cost_med(mode, c, 'pgbouncer', 1):.2f} | {cost_med(mode, c, 'pgsoftdelete', 1):.2f} |")
        if 1 in client_counts:
            print("\nAt 1 client, added latency over direct (median of per-round differences): ", end="")
            parts = []
            for mode in MODES:
                d = runs.get((mode, 1, "direct"))
                if not d or (mode, 1, REWRITTEN) not in runs:
                    continue
                diffs = [(runs[(mode, 1, REWRITTEN)][r][1] - d[r][1]) * 1000.0 for r in d if r in runs[(mode, 1, REWRITTEN)]]
                parts.append(f"{mode} PgBouncer+rw +{statistics.median(diffs):.0f} µs")
            print("; ".join(parts) + ".")

    print("\n### Per-round TPS (round: direct / PgBouncer / pgsoftdelete)\n")
    if others:
        busy = sum(1 for o in others if o > 10.0)
        print(f"CPU used by other processes during the runs (share of all cores): median {statistics.median(others):.1f}%, "
              f"max {max(others):.1f}%; {busy} of {len(others)} runs above 10%.\n")
    for mode in MODES:
        for c in client_counts:
            if (mode, c, "direct") not in runs:
                continue
            parts = []
            for r in rounds:
                vals = [runs[(mode, c, t)].get(r, (float("nan"), 0))[0] for t in TARGETS]
                parts.append(f"{r}: " + " / ".join(f"{v:.0f}" for v in vals))
            print(f"- {mode}, {c} client(s): " + "; ".join(parts))

    print("\n### Micro-benchmarks (pgsd_engine_bench, pgsd_socket_bench)\n")
    if a.engine:
        agg = defaultdict(dict)
        reps = "?"
        for path in a.engine:
            with open(path) as f:
                data = json.load(f)
            for b in data.get("benchmarks", []):
                if b.get("run_type") == "aggregate":
                    agg[b["run_name"]][b["aggregate_name"]] = b
                reps = b.get("repetitions", reps)
        print(f"Medians of {reps} repetitions (cv = coefficient of variation of real time).\n")
        print("| benchmark | median real | median CPU | cv |")
        print("|---|---:|---:|---:|")
        for name, aggs in agg.items():
            m = aggs.get("median")
            if not m:
                continue
            cv = aggs.get("cv", {}).get("real_time")
            unit = m.get("time_unit", "ns")
            cvs = f"{cv * 100:.1f}%" if isinstance(cv, (int, float)) else "-"
            print(f"| {name} | {m['real_time']:.0f} {unit} | {m['cpu_time']:.0f} {unit} | {cvs} |")
    if a.engine_note:
        print(a.engine_note)
    elif not a.engine:
        print("not run")

    print("\n### RSS with idle client connections\n")
    if a.rss:
        print("| process | VmRSS before | VmRSS with the connections open | connections | KiB per connection "
              f"| target ≤ {RSS_PER_CONN_MAX_KIB:.0f} KiB (pgsoftdelete) |")
        print("|---|---:|---:|---:|---:|---|")
        for spec in a.rss:
            label, path = spec.split(":", 1)
            try:
                with open(path) as f:
                    before, after, n, per = f.read().split()
            except (OSError, ValueError):
                print(f"| {label} | failed, see the log | | | | |")
                continue
            v = verdict(float(per) <= RSS_PER_CONN_MAX_KIB) if label == "pgsoftdelete" else "(reference)"
            print(f"| {label} | {before} KiB | {after} KiB | {n} | {float(per):.1f} | {v} |")
    else:
        print("not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
