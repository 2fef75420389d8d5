"""The side-by-side table on the terminal and the JSON file in ``benchmarks/results/``.

Targets are shown next to the figures as information: a benchmark never fails a build.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from results import RunResult
from spread import Spread, divided, figure, rates, ratio

Runs = dict[str, list[RunResult]]
"""Every run of every runner, by key (``A``, ``B'``, ...), in the order they ran."""

TARGETS: dict[str, str] = {
    "A/B'": ">= 1.5",
    "A/C'": ">= 1.2",
    "rss_n": "<= 150 MB",
    "rss_growth": "< 20 %",
    "cpu_vs_a1": "<= 1.00",
    "resend_ratio": "= 1.00",
    "startup": "<= 0.3 s",
}
THRESHOLDS: dict[str, float] = {"A/B'": 1.5, "A/C'": 1.2}
RATIOS: tuple[tuple[str, str, str], ...] = (
    ("A/B", "A", "B"),
    ("A/B'", "A", "B'"),
    ("A/B' x4", "A", "B'x4"),
    ("A/C'", "A", "C'"),
    ("A1/B'", "A1", "B'"),
    ("A1/C'", "A1", "C'"),
    ("A/A1", "A", "A1"),
    ("A/A x 2", "A", "Ax2"),
    ("A/C", "A", "C"),
    ("A x 2/C'", "Ax2", "C'"),
    ("A x 2/B'", "Ax2", "B'"),
)
"""Name, numerator, denominator. A is deliverator's default (every core once ``processes =
"auto"`` lands); A1 the same with ``processes = 1``: both against the same B' and C'."""
ROW_ORDER: tuple[str, ...] = ("A", "A1", "Ax2", "C'", "B'", "B'x4", "B", "C", "A10")


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]meets[/green]" if ok else "[red]misses[/red]"


def _highest(runs: list[RunResult] | None, read: Callable[[RunResult], float | None]) -> float | None:
    spread = figure(runs, read) if runs else None
    return None if spread is None else spread.high


def summarise(report: dict[str, Any], runs: Runs) -> dict[str, Any]:
    """The headline figures (ratios with their spread, peak RSS of all processes and its growth,
    CPU per event against one process) computed from the runs."""
    headline: dict[str, Any] = {}
    for name, top, bottom in RATIOS:
        spread = ratio(runs.get(top), runs.get(bottom))
        headline[name] = None if spread is None else spread.to_json()
    cpus: dict[str, Spread | None] = {}
    for key in ("A", "A1"):
        results = runs.get(key)
        cpus[key] = figure(results, lambda run: run.cpu_s_per_100k) if results else None
        headline[f"{key}_cpu_s_per_100k"] = None if cpus[key] is None else cpus[key].to_json()
    cpu_a, cpu_a1 = cpus["A"], cpus["A1"]
    cpu_ratio = None if cpu_a is None or cpu_a1 is None else divided(cpu_a, cpu_a1)
    headline["A_cpu/A1_cpu"] = None if cpu_ratio is None else cpu_ratio.to_json()
    # Peak RSS: the highest of the runs; for a run of several processes, of all of them together.
    for key, suffix in (("A", "n"), ("A1", "n"), ("A10", "10n")):
        name = "A" if key == "A10" else key
        rss = _highest(runs.get(key), lambda run: run.max_rss_mb)
        if rss is None:
            continue
        headline[f"{name}_rss_mb_{suffix}"] = round(rss, 3)
        largest = _highest(runs.get(key), lambda run: run.largest_process_rss_mb)
        headline[f"{name}_largest_process_rss_mb_{suffix}"] = None if largest is None else round(largest, 3)
        processes = _highest(runs.get(key), lambda run: run.processes)
        headline[f"{name}_processes_{suffix}"] = None if processes is None else int(processes)
    rss_n, rss_10n = headline.get("A_rss_mb_n"), headline.get("A_rss_mb_10n")
    if rss_n and rss_10n is not None:
        headline["A_rss_growth"] = round(rss_10n / rss_n - 1, 4)
    return headline


def runs_json(runs: Runs) -> dict[str, Any]:
    """Every run, and each runner's spread, for the results file."""
    data: dict[str, Any] = {}
    for key, results in runs.items():
        cpu = figure(results, lambda run: run.cpu_s_per_100k)
        data[key] = {
            "events_per_s": rates(results).to_json(1),
            "cpu_s_per_100k": None if cpu is None else cpu.to_json(3),
            "runs": [run.to_json() for run in results],
        }
    return data


def render(report: dict[str, Any], runs: Runs, console: Console) -> None:
    """Print every table."""
    console.print(_throughput_table(report["setup"], runs))
    console.print(
        "[dim]A, A1, B' and C' are timed as whole processes (start-up included); B times its sending "
        "loop; C times its posting only. Peak RSS is the highest of the runs: of all of a run's processes "
        "together (sampled every 10 ms) when it had more than one, the largest one's alone in the next "
        "column; A x 2 adds its two runs' peaks. Sink CPU = sink CPU seconds per timed second (median).[/dim]"
    )
    same = report.get("same_items_as_c_prime")
    if same:
        verdict = "identical" if not same["differing"] else f"{same['differing']} DIFFER"
        console.print(f"[dim]items A sent vs C''s, first {same['checked']:,} events: {verdict}[/dim]")
    for key, why in report.get("skipped", {}).items():
        console.print(f"[yellow]{escape(key)} skipped:[/yellow] {escape(why)}")

    targets = Table(title="Against the targets of issue #13 (ratios: median, range)", title_justify="left")
    for column in ("figure", "value", "target", ""):
        targets.add_column(column)
    for figure_name, value_text, target, ok in target_rows(report):
        targets.add_row(figure_name, value_text, target, _verdict(ok))
    console.print(targets)
    if report.get("arc"):
        render_arc(report["arc"], console)
    retry = report.get("retries")
    if retry:
        console.print(
            f"[dim]retry run: {retry['events']:,} events, {retry['requests']:,} requests "
            f"(minimum {retry['minimum_requests']:,}), {retry['retryable_failures']:,} item copies "
            f"refused retryably ({retry['items_refused']:,} one by one, "
            f"{retry['items_in_failed_requests']:,} in 503 requests), {retry['resent_items']:,} "
            f"re-sent; outcomes {retry['outcomes']}, attempts recorded {retry['attempts_recorded']:,} "
            f"vs {retry['item_arrivals']:,} copies received[/dim]"
        )


def _throughput_table(setup: dict[str, Any], runs: Runs) -> Table:
    table = Table(
        title=f"Throughput: {setup['events']:,} track events, concurrency {setup['concurrency']}, "
        f"{setup['transport']} on loopback, sink: {setup['sink_workers']} process(es); "
        f"median (min-max) of {setup['repeat']} run(s)",
        title_justify="left",
    )
    columns = ("", "runner", "events", "events/s", "CPU s/100k", "peak RSS MB", "largest proc MB", "procs",
               "sink CPU")
    for column in columns:
        table.add_column(column, justify="left" if column in ("", "runner") else "right")
    big_label = "A (10 x N)" if setup["rss_events"] == 10 * setup["events"] else "A (RSS run)"
    for key in ROW_ORDER:
        results = runs.get(key)
        if not results:
            continue
        cpu = figure(results, lambda run: run.cpu_s_per_100k)
        sink = figure(results, lambda run: run.sink_cpu_share)
        processes = _highest(results, lambda run: run.processes)
        table.add_row(
            {"A10": big_label, "Ax2": "A x 2", "B'x4": "B' x 4"}.get(key, key), results[0].label,
            f"{results[0].events:,}", rates(results).format(),
            "-" if cpu is None else cpu.format(".2f"),
            _fmt(_highest(results, lambda run: run.max_rss_mb), ".1f"),
            _fmt(_highest(results, lambda run: run.largest_process_rss_mb), ".1f"),
            _fmt(processes, ".0f"),
            "-" if sink is None else _fmt(sink.median, ".0%"),
        )
    return table


def _spread(value: dict[str, float]) -> Spread:
    return Spread(value["min"], value["median"], value["max"])


def target_rows(report: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, meets?) for the targets table; None: information, no target."""
    setup, headline = report["setup"], report["headline"]
    rows: list[tuple[str, str, str, bool | None]] = []
    for name, _, _ in RATIOS:
        value = headline.get(name)
        if value is None:
            continue
        threshold = THRESHOLDS.get(name)
        ok = None if threshold is None else value["median"] >= threshold
        rows.append((name, _spread(value).format(".2f"), TARGETS.get(name, ""), ok))
    ten = setup["rss_events"] == 10 * setup["events"]
    big = "10 x N" if ten else f"{setup['rss_events']:,} events"
    for key, size, target in (("A", "n", True), ("A1", "n", False), ("A", "10n", False)):
        rss = headline.get(f"{key}_rss_mb_{size}")
        if rss is None:
            if target:  # the row the issue asks for is shown even when not measured
                rows.append(("A peak RSS, N", "-", TARGETS["rss_n"], None))
            continue
        processes = headline.get(f"{key}_processes_{size}") or 1
        together = f", all {processes} processes" if processes > 1 else ", one process"
        at = "N" if size == "n" else big
        rows.append((f"{key} peak RSS, {at}{together}", _fmt(rss, ".1f") + " MB",
                     TARGETS["rss_n"] if target else "", rss <= 150 if target else None))
        largest = headline.get(f"{key}_largest_process_rss_mb_{size}")
        if processes > 1 and largest is not None:
            rows.append((f"{key} largest single process, {at}", _fmt(largest, ".1f") + " MB", "", None))
    if "A_rss_growth" in headline:
        growth = headline["A_rss_growth"]
        rows.append((f"A RSS growth N -> {big}", _fmt(growth * 100, "+.1f") + " %",
                     TARGETS["rss_growth"], growth < 0.20))
    for key in ("A", "A1"):
        cpu = headline.get(f"{key}_cpu_s_per_100k")
        if cpu is not None:
            rows.append((f"{key} CPU s per 100k events", _spread(cpu).format(".2f"), "", None))
    cpu_ratio = headline.get("A_cpu/A1_cpu")
    if cpu_ratio is not None:
        rows.append(("A CPU / A1 CPU (per event)", _spread(cpu_ratio).format(".2f"), TARGETS["cpu_vs_a1"],
                     cpu_ratio["median"] <= 1.0))
    retry = report.get("retries")
    if retry:
        rows.append(("re-sent / failed retryably", _fmt(retry["resend_ratio"], ".2f"),
                     TARGETS["resend_ratio"], abs(retry["resend_ratio"] - 1) < 1e-9))
        rows.append(("requests / minimum", _fmt(retry["request_ratio"], ".3f"), "", None))
    startup = report.get("startup")
    if startup:
        for name, key in (("deliverator --help", "help_s"), ("deliverator destinations", "destinations_s")):
            every = startup.get(f"{key}_spread")
            spread = f" (median {every['median']:.3f}, max {every['max']:.3f})" if every else ""
            rows.append((f"{name}, best of {startup['runs']}", _fmt(startup[key], ".3f") + f" s{spread}",
                         TARGETS["startup"], startup[key] <= 0.3))
    return rows


def render_arc(arc: dict[str, Any], console: Console) -> None:
    """The adaptive-concurrency tables."""
    fast = arc.get("fast_sink")
    if fast:
        table = Table(title="Adaptive concurrency on the fast sink: events/s, median (min-max)", title_justify="left")
        table.add_column("concurrency")
        table.add_column("events/s", justify="right")
        for key, value in fast.items():
            if isinstance(value, dict):
                table.add_row(key, Spread(value["min"], value["median"], value["max"]).format())
        console.print(table)
        ratio_value = fast["adaptive/best_fixed"]
        console.print(f"adaptive / best fixed ({fast['best_fixed']}): {ratio_value:.2f} (target >= 0.95) "
                      f"{_verdict(ratio_value >= 0.95)}")
    limited = arc.get("rate_limited")
    if limited:
        shape = limited["shape"]
        console.print(
            f"rate-limited sink ({shape['rate']:.0f} requests/s, burst {shape['burst']:.0f}, "
            f"{shape['latency_s'] * 1000:.0f} ms): {limited['accepted']:,} accepted, "
            f"{limited['refused_429']:,} answered 429 = {limited['refused_share']:.1%} of requests (target <= 5 %) "
            f"{_verdict(limited['refused_share'] <= 0.05)}; goodput {limited['goodput_share']:.2f} x R over the "
            f"whole run, {limited['goodput_share_while_sending'] or 0:.2f} x R while sending (target >= 0.9) "
            f"{_verdict(limited['goodput_share'] >= 0.9)}; limit in the second half "
            f"{limited['limit_second_half']}")
    bent = arc.get("knee")
    if bent:
        shape = bent["shape"]
        console.print(
            f"knee sink ({shape['workers']} at once, {shape['service_s'] * 1000:.0f} ms each): limit in the second "
            f"half {bent['limit_second_half']} against a knee of {shape['workers']}; throughput "
            f"{bent['throughput_share']:.2f} of the knee's")
    for key, what, share in (("rate_limited_fixed4", "rate-limited sink", "goodput_share"),
                             ("knee_fixed4", "knee sink", "throughput_share")):
        fixed = arc.get(key)
        if fixed:
            console.print(f"fixed concurrency 4 against the {what}: {fixed[share]:.2f} of what it allows, "
                          f"{fixed['refused_share']:.1%} answered 429")


def write_json(report: dict[str, Any], directory: Path) -> Path:
    """Write the report as ``bench-<UTC time>.json`` and ``latest.json``; return the first."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    path = directory / f"bench-{stamp}.json"
    path.write_bytes(data)
    (directory / "latest.json").write_bytes(data)
    return path
