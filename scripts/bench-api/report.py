#!/usr/bin/env python3
"""Summarises an API benchmark run (scripts/bench-api/run.sh) as a Markdown table.

  report.py OUT_DIR [--benchmarks BENCHMARKS.md]

Reads OUT_DIR/results.jsonl, which has one "meta" line, one "run" line per wrk run and
"memory" lines, and also reads OUT_DIR/ducha.log. Writes OUT_DIR/table.md and prints it.
With --benchmarks, it replaces the text between the lines <!-- api-bench:start --> and
<!-- api-bench:end --> in that file with the table. If the markers are missing, it warns
and leaves the file as it is.
"""
import argparse
import json
import re
import statistics
import sys
import textwrap
from pathlib import Path

START, END = "<!-- api-bench:start -->", "<!-- api-bench:end -->"
SLOW_MS = 100.0  # a ducha response slower than this counts as a stall in the log summary
PAIRED = ["list", "item", "item-random"]  # queries both servers answer
DUCHA_ONLY = {"list+colour": "list"}  # ducha-only query -> the query its cost is measured against



# How the table states ducha's kept copies (DUCHA_CACHES when the run started).
KEPT_COPIES = {
    "on": "kept copies on (items, units and tokens may be answered from the instance's copy).",
    "off": "kept copies off (`DUCHA_CACHES=off`: every answer read from the database, the "
    "token included).",
}

def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def fmt_ms(x):
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_mb(kb):
    return f"{kb / 1024:.0f} MB"


def spread(values, fmt):
    """min / median / max, or a single value when there is only one."""
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(min(values))} / **{fmt(statistics.median(values))}** / {fmt(max(values))}"


def load(out):
    meta, runs, memory, window = {}, [], [], None
    with open(out / "results.jsonl", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            kind = rec.get("kind")
            if kind == "meta":
                meta = rec
            elif kind == "run":
                runs.append(rec)
            elif kind == "memory":
                memory.append(rec)
            elif kind == "load":
                window = (rec["start"], rec["end"])
    return meta, runs, memory, window


def scan_log(path, window):
    """GraphQL responses in ducha's log (count, statuses, the slowest), WARN/ERROR lines, and
    the background work (sweeps, monthly reports) logged while the load ran (window: the
    load's start and end as UTC ISO strings, which compare as strings with the log's).
    Slow responses are counted only inside the window: before it come the report's
    publication (one mutation over every item) and the first, cold, comparison requests,
    which are not the load's; the slowest of those is kept apart."""
    stats = {"responses": 0, "non_200": 0, "slow": 0, "max_ms": 0.0, "slowest": [], "warn": 0,
             "error": 0, "sweeps": [], "outside_max_ms": 0.0}
    if not path.exists():
        return None
    resp = re.compile(r"path=/graphql\}.*\bresponse status=(\d+) took_ms=([\d.]+)")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = resp.search(line)
            if m:
                status, took = int(m.group(1)), float(m.group(2))
                stats["responses"] += 1
                stats["non_200"] += status != 200
                if window and not window[0] <= line[:27] <= window[1]:
                    stats["outside_max_ms"] = max(stats["outside_max_ms"], took)
                    continue
                if took > SLOW_MS:
                    stats["slow"] += 1
                    stats["slowest"].append((took, line[:27].strip()))
                    stats["slowest"] = sorted(stats["slowest"], reverse=True)[:5]
                stats["max_ms"] = max(stats["max_ms"], took)
                continue
            if " WARN " in line:
                stats["warn"] += 1
            elif " ERROR " in line:
                stats["error"] += 1
            if ("reminder sweep" in line or "monthly report published" in line) and window \
                    and window[0] <= line[:27] <= window[1]:
                stats["sweeps"].append(line[:27].strip())
    return stats


def by_key(runs):
    """{(server, query, conns): [runs sorted by rep]}"""
    groups = {}
    for r in runs:
        groups.setdefault((r["server"], r["query"], r["conns"]), []).append(r)
    for v in groups.values():
        v.sort(key=lambda r: r["rep"])
    return groups


def median_of(runs, field):
    return statistics.median(r[field] for r in runs)


def render(meta, runs, memory, log):
    g = by_key(runs)
    conns_list = sorted({r["conns"] for r in runs})
    lines = []
    mem_gib = int(meta.get("mem_total_kb", 0)) / 1024 / 1024
    lines.append(
        f"Measured {meta.get('date', '?')} on {meta.get('nproc', '?')} CPUs "
        f"({meta.get('cpu_model', '?')}) and {mem_gib:.1f} GiB RAM, with "
        f"PostgreSQL {meta.get('postgres_version', '?')}, wrk, ducha and PostGraphile all on "
        f"this one machine. The database `{meta.get('db', '?')}` holds "
        f"{int(meta.get('items', 0)):,} items and {int(meta.get('assignments', 0)):,} assignments."
    )
    lines.append("")
    lines.append(
        f"- ducha {meta.get('ducha_version', '?')} ({meta.get('ducha_commit', '?')}), release "
        f"binary, run as deployed (background jobs on, log level `{meta.get('ducha_log', 'info')}`), "
        f"pool {meta.get('ducha_pool', '?')}, token of person {meta.get('person_id', '?')} "
        + ("(a supervisor, who sees every item), " if meta.get("person_role") == "SUPERVISOR"
           else f"(role {meta.get('person_role', '?')}), ")
        + KEPT_COPIES.get(meta.get("ducha_caches"), "kept copies not recorded.")
    )
    lines.append(
        f"- PostGraphile {meta.get('pgl_version', '?')} (amber preset and simplify-inflection, "
        f"`NODE_ENV=production`, one Node {meta.get('node_version', '?')} process), pool "
        f"{meta.get('pool', '?')}, no authentication."
    )
    lines.append(
        f"- wrk: DURATION {meta.get('duration', '?')} s per run, REPS {meta.get('reps', '?')} "
        f"(ducha then PostGraphile in each rep), threads = min(conns, 2), `--timeout 10s`; "
        f"a {meta.get('warmup', '?')} s warm-up per server and query is not counted. "
        f"`list` = `items(first: 50)` with each item's assignments and their units; "
        f"`item` = `item(id:)` of item {meta.get('item_id', '?')} (the middle of the table) on every "
        f"request: after the first, ducha's kept copy answers it (`caches = off` would not); "
        f"`item-random` = the same query for a random item of the whole table on each request, "
        f"as a dashboard or a search page sends them; "
        f"`list+colour` = `list` plus the colours (ducha only). Before the load, both servers' "
        f"answers were compared field by field and found identical."
    )
    lines.append(f"- Command: `{meta.get('command', 'scripts/bench-api/run.sh')}`")
    lines.append("")
    lines.append(
        "| query | conns | ducha req/s (min / median / max) | PostGraphile req/s (min / median / max) "
        "| ducha ÷ PostGraphile (min / median / max) | p99 ms, ducha / PostGraphile (median) "
        "| p99.9 ms ducha, 1 conn | errors + non-200, ducha / PostGraphile |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for q in PAIRED:
        for c in conns_list:
            d, p = g.get(("ducha", q, c)), g.get(("pgl", q, c))
            if not d or not p:
                continue
            d_rps = [r["rps"] for r in d]
            p_rps = [r["rps"] for r in p]
            p_by_rep = {r["rep"]: r for r in p}
            ratios = [r["rps"] / p_by_rep[r["rep"]]["rps"] for r in d
                      if r["rep"] in p_by_rep and p_by_rep[r["rep"]]["rps"] > 0]
            ratio = spread(ratios, lambda x: f"{x:.2f}×") if ratios else "—"
            p999 = fmt_ms(median_of(d, "p999_ms")) if c == 1 else "—"
            bad_d = sum(r["errors"] + r["non_200"] for r in d)
            bad_p = sum(r["errors"] + r["non_200"] for r in p)
            lines.append(
                f"| {q} | {c} | {spread(d_rps, fmt_rps)} | {spread(p_rps, fmt_rps)} | {ratio} "
                f"| {fmt_ms(median_of(d, 'p99_ms'))} / {fmt_ms(median_of(p, 'p99_ms'))} | {p999} "
                f"| {bad_d} / {bad_p} |"
            )
    colour_rows = []
    for q, base in DUCHA_ONLY.items():
        for c in conns_list:
            d, b = g.get(("ducha", q, c)), g.get(("ducha", base, c))
            if not d:
                continue
            rps = [r["rps"] for r in d]
            cost = "—"
            if b:
                cost = f"{1 - statistics.median(rps) / median_of(b, 'rps'):.0%}"
            p999 = fmt_ms(median_of(d, "p999_ms")) if c == 1 else "—"
            bad = sum(r["errors"] + r["non_200"] for r in d)
            colour_rows.append(
                f"| {q} | {c} | {spread(rps, fmt_rps)} | {cost} | {fmt_ms(median_of(d, 'p99_ms'))} "
                f"| {p999} | {bad} |"
            )
    if colour_rows:
        lines.append("")
        lines.append(
            "| ducha only | conns | ducha req/s (min / median / max) "
            "| colour cost = 1 − req/s(list+colour) ÷ req/s(list), medians | p99 ms (median) "
            "| p99.9 ms, 1 conn | errors + non-200 |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        lines.extend(colour_rows)
    lines.append("")
    mem = {(m["server"], m["when"]): m for m in memory}

    def mem_text(server, name):
        parts = []
        for when, label in (
            ("idle", "idle (after start-up work has settled)"),
            ("report_published", "just after publishing the month's report over every item"),
            ("report_settled", "after settling"),
            ("after_load", "after the load"),
        ):
            m = mem.get((server, when))
            if m:
                parts.append(f"{label} {fmt_mb(m['rss_kb'])} (peak {fmt_mb(m['hwm_kb'])})")
        return f"{name} " + ", ".join(parts) if parts else f"{name} not measured"

    lines.append(
        "Memory (VmRSS, with VmHWM as the peak so far, from /proc/PID/status): "
        f"{mem_text('ducha', 'ducha')}; {mem_text('pgl', 'PostGraphile')}."
    )
    if log is not None:
        text = (
            f"ducha's log: {log['responses']:,} GraphQL responses, "
            f"{'all 200' if log['non_200'] == 0 else str(log['non_200']) + ' not 200'}; "
            f"under load the slowest {fmt_ms(log['max_ms'])} ms, {log['slow']:,} over "
            f"{SLOW_MS:.0f} ms; {log['warn']} WARN and {log['error']} ERROR lines"
        )
        if log["outside_max_ms"]:
            text += (f"; before the load (the report's publication, the comparison) the "
                     f"slowest {fmt_ms(log['outside_max_ms'])} ms")
        if log["sweeps"]:
            text += (f"; background work during the load (sweep or monthly report) at "
                     f"{', '.join(log['sweeps'][:4])}")
        lines.append("")
        lines.append(text + ".")
    return "\n".join(wrap(line) for line in lines) + "\n"


def wrap(line, width=95):
    """Prose wrapped as in BENCHMARKS.md; table rows stay on one line."""
    if line.startswith("|") or len(line) <= width:
        return line
    indent = "  " if line.startswith("- ") else ""
    # Code spans are never broken: their spaces are hidden from textwrap.
    hidden = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), line)
    text = textwrap.fill(hidden, width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)
    return text.replace("\0", " ")


def replace_between_markers(path, table):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == START]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        print(f"warning: {path} does not have exactly one {START} … {END} pair; left unchanged",
              file=sys.stderr)
        return
    new = lines[: starts[0] + 1] + table.rstrip("\n").split("\n") + lines[ends[0]:]
    path.write_text("\n".join(new), encoding="utf-8")
    print(f"replaced the table between the api-bench markers in {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--benchmarks", type=Path)
    args = parser.parse_args()
    meta, runs, memory, window = load(args.out)
    if not runs:
        sys.exit(f"no runs in {args.out / 'results.jsonl'}")
    log = scan_log(args.out / "ducha.log", window)
    table = render(meta, runs, memory, log)
    (args.out / "table.md").write_text(table, encoding="utf-8")
    print(table, end="")
    if log and log["slowest"]:
        print("\nslowest ducha responses (took ms, log time):")
        for took, at in log["slowest"]:
            print(f"  {took:10.1f}  {at}")
    if args.benchmarks:
        replace_between_markers(args.benchmarks, table)


if __name__ == "__main__":
    main()
