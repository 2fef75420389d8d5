"""A: deliverator itself, as a user runs it: ``deliverator deliver EVENTS --config FILE
--no-progress`` in a child process, default settings but ``concurrency``, against the sink.

The whole process is timed (start-up, reading, building, sending, writing outcomes), and
``os.wait4`` gives its CPU time and peak RSS.
"""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from measure import ProcessUsage, run_measured
from results import RunResult
from sink import Sink
from verify import tally_outcomes

_SUMMARY = re.compile(r"(\d+) delivered, (\d+) failed, (\d+) ignored")


def deliverator_command() -> Path:
    """The ``deliverator`` script of the interpreter running the benchmarks."""
    script = Path(sys.executable).parent / "deliverator"
    if not script.exists():
        raise RuntimeError(f"{script} not found: install the project first (make bench does)")
    return script


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, bool, list or inline table (a JSON string is a
    TOML basic string once DEL, which JSON leaves bare, is escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode().replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Write ``{"destination": {...}, "destination.settings": {...}, ...}`` as TOML tables."""
    lines: list[str] = []
    for table, keys in sections.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in keys.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def customerio_config(
    path: Path, endpoint: str, *, concurrency: int | str, ca_bundle: Path | None, **delivery_keys: Any
) -> Path:
    """The Customer.io config of the issue, pointed at the sink (``concurrency`` a number or
    ``"adaptive"``; more ``[delivery]`` keys as keywords)."""
    delivery: dict[str, Any] = {"concurrency": concurrency, **delivery_keys}
    if ca_bundle is not None:
        delivery["ca_bundle"] = str(ca_bundle)
    return write_config(
        path,
        {
            "destination": {"name": "customerio"},
            "destination.settings": {
                "site_id": "bench", "api_key": "bench-key", "endpoint": endpoint,
            },
            "delivery": delivery,
        },
    )


def run_deliver(
    events_path: Path,
    config: Path,
    results: Path,
    work_dir: Path,
    *,
    allowed_exits: tuple[int, ...] = (0,),
) -> ProcessUsage:
    """``deliverator deliver`` once, measured; raises if its exit code is not allowed (0 =
    every event delivered, 1 = some failed, 2 = a usage or configuration error)."""
    argv = [
        str(deliverator_command()), "deliver", str(events_path),
        "--config", str(config),
        "--results", str(results),
        "--dead-letter", str(results.with_suffix(".dead-letter.jsonl")),
        "--no-progress",
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    usage = run_measured(argv, env=env, cwd=work_dir, output_dir=work_dir)
    if usage.returncode not in allowed_exits:
        raise RuntimeError(f"A (deliverator) failed: {usage.describe_failure()}")
    return usage


def summary_counts(output: str) -> tuple[int, int, int] | None:
    """(delivered, failed, ignored) from the one-line summary, if printed."""
    match = _SUMMARY.search(output)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def run_a(
    events_path: Path,
    events: int,
    *,
    work_dir: Path,
    sink: Sink,
    concurrency: int | str,
    ca_bundle: Path | None,
    tally: bool = True,
    tag: str = "a",
) -> RunResult:
    """Deliver ``events`` events with deliverator and check every one was delivered."""
    config = customerio_config(
        work_dir / f"{tag}.toml", sink.url, concurrency=concurrency, ca_bundle=ca_bundle
    )
    results = work_dir / f"{tag}.results.jsonl"
    try:
        usage = run_deliver(events_path, config, results, work_dir)
    finally:
        stats = sink.stop()
    checks: dict[str, Any] = {"summary": summary_counts(usage.stdout + usage.stderr)}
    if tally:
        outcomes = tally_outcomes(results)
        checks["outcomes"] = dict(outcomes)
        if outcomes["delivered"] != events or outcomes["lines"] != events:
            raise RuntimeError(f"A delivered {outcomes['delivered']} of {events} events: {outcomes}")
    return RunResult(
        key="A",
        label="deliverator deliver",
        events=events,
        seconds=usage.wall_s,
        timed="whole process: start-up, read, build, send, write outcomes",
        cpu_s=usage.cpu_s,
        max_rss_mb=usage.max_rss_mb,
        sink=stats,
        checks=checks,
    )


def split_events(events_path: Path, shards: int, work_dir: Path) -> list[Path]:
    """``events_path`` cut into ``shards`` files of consecutive lines (as a user would shard a
    stream across processes)."""
    lines = events_path.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // shards)
    paths = []
    for shard in range(shards):
        path = work_dir / f"{events_path.stem}.shard{shard}.jsonl"
        path.write_bytes(b"".join(lines[shard * size : (shard + 1) * size]))
        paths.append(path)
    return paths


def run_a_sharded(
    events_path: Path,
    events: int,
    *,
    shards: int,
    work_dir: Path,
    sink: Sink,
    concurrency: int,
    ca_bundle: Path | None,
) -> RunResult:
    """What a second process gives: the same events split in ``shards`` parts, each delivered
    by its own ``deliverator deliver`` at the same time, timed from the first start to the last
    exit. Every event must still be delivered."""
    config = customerio_config(
        work_dir / "a-sharded.toml", sink.url, concurrency=concurrency, ca_bundle=ca_bundle
    )
    parts = split_events(events_path, shards, work_dir)
    results = [work_dir / f"a-shard{shard}.results.jsonl" for shard in range(shards)]
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=shards) as pool:
            usages = list(pool.map(lambda part, out: run_deliver(part, config, out, work_dir), parts, results))
        wall = time.perf_counter() - started
    finally:
        stats = sink.stop()
    delivered = 0
    for path in results:
        outcomes = tally_outcomes(path)
        delivered += outcomes["delivered"]
    if delivered != events:
        raise RuntimeError(f"A x {shards} delivered {delivered} of {events} events")
    return RunResult(
        key=f"Ax{shards}",
        label=f"deliverator deliver, {shards} processes",
        events=events,
        seconds=wall,
        timed=f"{shards} whole processes side by side, first start to last exit",
        cpu_s=sum(usage.cpu_s for usage in usages),
        max_rss_mb=max(usage.max_rss_mb for usage in usages),
        sink=stats,
        checks={"shards": shards, "delivered": delivered},
    )
