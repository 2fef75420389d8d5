"""The side-by-side table on the terminal and the JSON file in ``benchmarks/results/``.

Targets are shown next to the figures as information: a benchmark never fails a build.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from results import RunResult

TARGETS: dict[str, str] = {
    "A/B": ">= 25",
    "A/C'": ">= 0.8",
    "rss_n": "<= 150 MB",
    "rss_growth": "< 20 %",
    "resend_ratio": "= 1.00",
    "startup": "<= 0.3 s",
}


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]meets[/green]" if ok else "[red]misses[/red]"


def ratio(numerator: RunResult | None, denominator: RunResult | None) -> float | None:
    """events/s of one runner over another's, when both ran."""
    if numerator is None or denominator is None or denominator.events_per_s <= 0:
        return None
    return numerator.events_per_s / denominator.events_per_s


def summarise(report: dict[str, Any], runs: dict[str, RunResult]) -> dict[str, Any]:
    """The headline figures (ratios, RSS growth) computed from the runs."""
    a = runs.get("A")
    headline: dict[str, Any] = {
        "A/B": ratio(a, runs.get("B")),
        "A/C'": ratio(a, runs.get("C'")),
        "A/C": ratio(a, runs.get("C")),
        "Ax2/C'": ratio(runs.get("Ax2"), runs.get("C'")),
        "A_cpu_s_per_100k": a.cpu_s_per_100k if a else None,
        "A_rss_mb_n": a.max_rss_mb if a else None,
    }
    big = runs.get("A10")
    if a and big and a.max_rss_mb and big.max_rss_mb:
        headline["A_rss_mb_10n"] = big.max_rss_mb
        headline["A_rss_growth"] = big.max_rss_mb / a.max_rss_mb - 1
    return {key: (round(v, 4) if isinstance(v, float) else v) for key, v in headline.items()}


def render(report: dict[str, Any], runs: dict[str, RunResult], console: Console) -> None:
    """Print every table."""
    setup = report["setup"]
    table = Table(
        title=f"Throughput: {setup['events']:,} track events, concurrency {setup['concurrency']}, "
        f"{setup['transport']} on loopback, sink: {setup['sink_workers']} process(es)",
        title_justify="left",
    )
    for column in ("", "runner", "events", "timed s", "events/s", "CPU s/100k", "peak RSS MB",
                   "sink CPU"):
        table.add_column(column, justify="left" if column in ("", "runner") else "right")
    big_label = "A (10 x N)" if setup["rss_events"] == 10 * setup["events"] else "A (RSS run)"
    for key in ("A", "Ax2", "C'", "C", "B", "A10"):
        run = runs.get(key)
        if run is None:
            continue
        table.add_row(
            {"A10": big_label, "Ax2": "A x 2"}.get(key, key), run.label, f"{run.events:,}",
            _fmt(run.seconds, ".2f"),
            _fmt(run.events_per_s), _fmt(run.cpu_s_per_100k, ".2f"), _fmt(run.max_rss_mb, ".1f"),
            _fmt(run.sink_cpu_share, ".0%"),
        )
    console.print(table)
    console.print(
        "[dim]A and C' are timed as whole processes (start-up included); B times its sending "
        "loop; C times its posting only. Sink CPU = sink CPU seconds per timed second.[/dim]"
    )
    same = report.get("same_items_as_c_prime")
    if same:
        verdict = "identical" if not same["differing"] else f"{same['differing']} DIFFER"
        console.print(f"[dim]items A sent vs C''s, first {same['checked']:,} events: {verdict}[/dim]")

    headline = report["headline"]
    targets = Table(title="Against the targets of issue #5", title_justify="left")
    for column in ("figure", "value", "target", ""):
        targets.add_column(column)
    rows: list[tuple[str, str, str, bool | None]] = []
    for key in ("A/B", "A/C'", "A/C", "Ax2/C'"):
        value = headline.get(key)
        target = TARGETS.get(key, "")
        threshold = {"A/B": 25.0, "A/C'": 0.8}.get(key)
        ok = None if value is None or threshold is None else value >= threshold
        rows.append((key, _fmt(value, ".2f"), target, ok))
    rss = headline.get("A_rss_mb_n")
    rows.append(("A peak RSS, N", _fmt(rss, ".1f") + " MB", TARGETS["rss_n"],
                 None if rss is None else rss <= 150))
    if "A_rss_growth" in headline:
        growth = headline["A_rss_growth"]
        ten = setup["rss_events"] == 10 * setup["events"]
        big = "10 x N" if ten else f"{setup['rss_events']:,} events"
        rows.append((f"A peak RSS, {big}", _fmt(headline["A_rss_mb_10n"], ".1f") + " MB", "", None))
        rows.append((f"A RSS growth N -> {big}", _fmt(growth * 100, "+.1f") + " %",
                     TARGETS["rss_growth"], growth < 0.20))
    rows.append(("A CPU s per 100k events", _fmt(headline.get("A_cpu_s_per_100k"), ".2f"), "", None))
    retry = report.get("retries")
    if retry:
        rows.append(("re-sent / failed retryably", _fmt(retry["resend_ratio"], ".2f"),
                     TARGETS["resend_ratio"], abs(retry["resend_ratio"] - 1) < 1e-9))
        rows.append(("requests / minimum", _fmt(retry["request_ratio"], ".3f"), "", None))
    startup = report.get("startup")
    if startup:
        for name, key in (("deliverator --help", "help_s"), ("deliverator destinations", "destinations_s")):
            rows.append((name, _fmt(startup[key], ".3f") + " s", TARGETS["startup"], startup[key] <= 0.3))
    for figure, value, target, ok in rows:
        targets.add_row(figure, value, target, _verdict(ok))
    console.print(targets)
    if retry:
        console.print(
            f"[dim]retry run: {retry['events']:,} events, {retry['requests']:,} requests "
            f"(minimum {retry['minimum_requests']:,}), {retry['retryable_failures']:,} item copies "
            f"refused retryably ({retry['items_refused']:,} one by one, "
            f"{retry['items_in_failed_requests']:,} in 503 requests), {retry['resent_items']:,} "
            f"re-sent; outcomes {retry['outcomes']}, attempts recorded {retry['attempts_recorded']:,} "
            f"vs {retry['item_arrivals']:,} copies received[/dim]"
        )


def write_json(report: dict[str, Any], directory: Path) -> Path:
    """Write the report as ``bench-<UTC time>.json`` and ``latest.json``; return the first."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    path = directory / f"bench-{stamp}.json"
    path.write_bytes(data)
    (directory / "latest.json").write_bytes(data)
    return path
