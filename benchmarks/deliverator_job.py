"""A: deliverator itself, as a user runs it: ``deliverator deliver EVENTS --config FILE
--no-progress`` in a child process, default settings but ``concurrency``, against the sink.
A1: the same with ``[delivery] processes = 1`` (one process, however many cores), and A x 2:
the input split in two files delivered by two such one-process runs side by side.

The whole process is timed (start-up, reading, building, sending, writing outcomes);
``os.wait4`` gives its CPU time (its children's included: it waits for them) and the peak RSS
of its largest process, and a sampler the summed peak of all its processes (``measure.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
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
    path: Path, endpoint: str, *, concurrency: int | str, ca_bundle: Path | None,
    processes: int | str | None = None, **delivery_keys: Any
) -> Path:
    """The Customer.io config of the issue, pointed at the sink (``concurrency`` a number or
    ``"adaptive"``; more ``[delivery]`` keys as keywords). ``processes`` is written only when
    given, so the default config stays valid for a deliverator that has no such key."""
    delivery: dict[str, Any] = {"concurrency": concurrency, **delivery_keys}
    if processes is not None:
        delivery["processes"] = processes
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


def processes_key_unsupported(work_dir: Path, sink: Sink, ca_bundle: Path | None) -> str | None:
    """None if this deliverator accepts ``[delivery] processes = 1``; else why not (its own
    words). Asks ``deliverator check`` once, with the config A1 would use, against ``sink``
    (stopped afterwards): a configuration error exits 2 before the credentials are tried."""
    config = customerio_config(work_dir / "a1-check.toml", sink.url, concurrency=1, ca_bundle=ca_bundle,
                               processes=1)
    try:
        checked = subprocess.run(
            [str(deliverator_command()), "check", "--config", str(config)], capture_output=True, text=True,
            env={**os.environ, "NO_COLOR": "1"}, check=False, timeout=120,
        )
    finally:
        sink.stop()
    return unsupported_reason(checked.returncode, checked.stdout + checked.stderr)


def unsupported_reason(returncode: int, output: str) -> str | None:
    """What ``deliverator check``'s exit code and output say about the ``processes`` key:
    None when the configuration was accepted (0: credentials OK; 1: refused or unreachable,
    which A1 does not care about); the message when the key was refused; a RuntimeError for
    any other configuration error (the benchmark's config is wrong, not deliverator)."""
    if returncode in (0, 1):
        return None
    problem = " ".join(line.strip() for line in output.strip().splitlines() if "processes" in line)
    problem = problem.split("; expected one of")[0]  # the list of every key it knows is long
    if returncode == 2 and problem:
        return problem
    raise RuntimeError(f"deliverator check refused the A1 config (exit {returncode}): {output.strip()[-500:]}")


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
    key: str = "A",
    processes: int | None = None,
) -> RunResult:
    """Deliver ``events`` events with deliverator and check every one was delivered
    (``processes`` None: deliverator's default, the key left out of the config)."""
    config = customerio_config(
        work_dir / f"{tag}.toml", sink.url, concurrency=concurrency, ca_bundle=ca_bundle, processes=processes
    )
    results = work_dir / f"{tag}.results.jsonl"
    try:
        usage = run_deliver(events_path, config, results, work_dir)
    finally:
        stats = sink.stop()
    checks: dict[str, Any] = {"summary": summary_counts(usage.stdout + usage.stderr), **tree_checks(usage)}
    if tally:
        outcomes = tally_outcomes(results)
        checks["outcomes"] = dict(outcomes)
        if outcomes["delivered"] != events or outcomes["lines"] != events:
            raise RuntimeError(f"{key} delivered {outcomes['delivered']} of {events} events: {outcomes}")
    label = "deliverator deliver" + ("" if processes is None else f", processes = {processes}")
    return RunResult(
        key=key,
        label=label,
        events=events,
        seconds=usage.wall_s,
        timed="whole process: start-up, read, build, send, write outcomes",
        sink=stats,
        checks=checks,
        **RunResult.usage_figures(usage),
    )


def tree_checks(usage: ProcessUsage) -> dict[str, Any]:
    """What the process-tree sampler saw, and what it cost, for the results file."""
    tree = usage.tree
    if tree is None:
        return {"unreaped_children": usage.unreaped}
    return {"tree": {"processes_seen": tree.processes_seen, "most_at_once": tree.most_at_once,
                     "sampled_peak_mb": round(tree.peak_rss_bytes / 1e6, 3), "samples": tree.samples,
                     "interval_s": tree.interval_s, "sampler_cpu_s": round(tree.sampler_cpu_s, 3)},
            "unreaped_children": usage.unreaped}


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
    one_process: bool = True,
) -> RunResult:
    """What a second process gives: the same events split in ``shards`` parts, each delivered
    by its own ``deliverator deliver`` at the same time, timed from the first start to the last
    exit. Every event must still be delivered. Each run is told ``processes = 1`` when
    ``one_process`` (the hand-split upper bound: two single-process runs; leave it False for a
    deliverator without the key)."""
    config = customerio_config(
        work_dir / "a-sharded.toml", sink.url, concurrency=concurrency, ca_bundle=ca_bundle,
        processes=1 if one_process else None,
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
        # Two trees side by side, sampled apart: the sum of their peaks, an upper bound of their
        # peak together (the two need not peak at the same instant).
        max_rss_mb=sum(usage.max_rss_mb for usage in usages),
        largest_process_rss_mb=max(usage.largest_process_rss_mb for usage in usages),
        processes=sum(usage.processes for usage in usages),
        sink=stats,
        checks={"shards": shards, "delivered": delivered, "one_process_each": one_process,
                "peak_rss_mb_each": [round(usage.max_rss_mb, 3) for usage in usages],
                "unreaped_children": sum(usage.unreaped for usage in usages)},
    )
