"""The parent side of runners B, B', C' and C: start each script in a child process against a
running sink, check it did the whole job, and return its figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import orjson

from measure import ProcessUsage, run_measured
from results import RunResult
from sink import Sink, SinkStats
from verify import tally_outcomes

HERE = Path(__file__).resolve().parent


def _script(name: str) -> str:
    return str(HERE / name)


def _json_line(stdout: str, who: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            value = orjson.loads(line)
            if isinstance(value, dict):
                return value
    raise RuntimeError(f"{who} printed no JSON result: {stdout[-500:]!r}")


def run_b(events_path: Path, count: int, *, sink: Sink, work_dir: Path) -> RunResult:
    """B: the official client, one HTTPS request per event, sequentially (as ``track`` is used)."""
    if sink.tls is None:
        raise ValueError("the official client speaks HTTPS only: give the sink a certificate")
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(sink.tls.ca_path)}
    argv = [sys.executable, _script("official_client.py"), str(events_path),
            "--count", str(count), "--host", "127.0.0.1", "--port", str(sink.port)]
    try:
        usage = run_measured(argv, env=env, output_dir=work_dir)
    finally:
        stats = sink.stop()
    if usage.returncode != 0:
        raise RuntimeError(f"B (official client) failed: {usage.describe_failure()}")
    result = _json_line(usage.stdout, "B")
    if stats.routes.get("v1_track") != result["events"]:
        raise RuntimeError(f"B sent {result['events']} events but the sink saw {dict(stats.routes)}")
    return RunResult(
        key="B", label="official client, 1 req/event", events=int(result["events"]),
        seconds=float(result["seconds"]), timed="the sending loop (start-up and reading excluded)",
        sink=stats, **RunResult.usage_figures(usage),
        checks={"failures": result["failures"], "sink_routes": dict(stats.routes)},
    )


def run_b_prime(events_path: Path, events: int, *, sink: Sink, work_dir: Path, threads: int = 1) -> RunResult:
    """B': the official client's ``batch()``, 100 operations a request, from ``threads``
    threads, timed as a whole process like A."""
    if sink.tls is None:
        raise ValueError("the official client speaks HTTPS only: give the sink a certificate")
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(sink.tls.ca_path)}
    argv = [sys.executable, _script("official_batch.py"), str(events_path),
            "--host", "127.0.0.1", "--port", str(sink.port), "--threads", str(threads)]
    try:
        usage = run_measured(argv, env=env, output_dir=work_dir)
    finally:
        stats = sink.stop()
    if usage.returncode != 0:
        raise RuntimeError(f"B' (official client, batch) failed: {usage.describe_failure()}")
    result = _json_line(usage.stdout, "B'")
    if result["events"] != events or stats.routes.get("v2_batch") != result["requests"]:
        raise RuntimeError(f"B' sent {result['events']} of {events} events in {result['requests']} "
                           f"requests; the sink saw {dict(stats.routes)}")
    key = "B'" if threads == 1 else f"B'x{threads}"
    return RunResult(
        key=key, label=f"official client batch(), {threads} thread{'s' if threads > 1 else ''}",
        events=events, seconds=usage.wall_s,
        timed="whole process: start-up, read, map, send (no outcome records)",
        sink=stats, **RunResult.usage_figures(usage),
        checks={"requests": result["requests"], "sink_routes": dict(stats.routes)},
    )


def run_c_prime(
    events_path: Path, events: int, *, sink: Sink, work_dir: Path, concurrency: int,
    ca_bundle: Path | None,
) -> RunResult:
    """C': the straight-line script, timed as a whole process like A."""
    results = work_dir / "c-prime.results.jsonl"
    usage, stats = _run_script(
        "straightline.py", [str(events_path), "--results", str(results)], "C' (straight-line script)",
        sink=sink, work_dir=work_dir, concurrency=concurrency, ca_bundle=ca_bundle,
    )
    outcomes = tally_outcomes(results)
    if outcomes["delivered"] != events:
        raise RuntimeError(f"C' delivered {outcomes['delivered']} of {events} events: {outcomes}")
    return RunResult(
        key="C'", label="straight-line script", events=events, seconds=usage.wall_s,
        timed="whole process: start-up, read, build, send, write outcomes",
        sink=stats, **RunResult.usage_figures(usage),
        checks={"outcomes": dict(outcomes)},
    )


def run_c(
    events_path: Path, *, sink: Sink, work_dir: Path, concurrency: int, ca_bundle: Path | None
) -> RunResult:
    """C: pre-encoded batches posted as fast as urllib3 can, only the posting timed."""
    usage, stats = _run_script(
        "baseline.py", [str(events_path)], "C (baseline)",
        sink=sink, work_dir=work_dir, concurrency=concurrency, ca_bundle=ca_bundle,
    )
    result = _json_line(usage.stdout, "C")
    if stats.requests != result["requests"]:
        raise RuntimeError(f"C posted {result['requests']} requests, the sink saw {stats.requests}")
    return RunResult(
        key="C", label="zero-work baseline", events=int(result["events"]),
        seconds=float(result["seconds"]), timed="the posting only (encoding done before)",
        sink=stats, checks={"requests": result["requests"], "failures": result["failures"]},
    )


def _run_script(
    script: str, args: list[str], label: str, *, sink: Sink, work_dir: Path, concurrency: int,
    ca_bundle: Path | None,
) -> tuple[ProcessUsage, SinkStats]:
    """Run one of the comparison scripts against ``sink`` (stopped afterwards), measured;
    raise, naming ``label``, if it failed."""
    argv = [sys.executable, _script(script), *args, "--endpoint", sink.url, "--concurrency", str(concurrency)]
    if ca_bundle is not None:
        argv += ["--ca-bundle", str(ca_bundle)]
    try:
        usage = run_measured(argv, output_dir=work_dir)
    finally:
        stats = sink.stop()
    if usage.returncode != 0:
        raise RuntimeError(f"{label} failed: {usage.describe_failure()}")
    return usage, stats
