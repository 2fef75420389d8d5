"""Profiling A: run ``deliverator deliver`` exactly as the benchmark does, under py-spy, and
print where the time goes.

py-spy samples every thread from outside the process, so the sender threads and the writer
are seen too (an in-process profiler such as pyinstrument sees one thread). Only samples of
the thread holding the GIL are kept (``--gil``): with one core's worth of Python at most,
that is where CPU time is spent. The raw stacks are kept for flame graphs.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import attrs

from deliverator_job import customerio_config, deliverator_command
from measure import run_measured
from sink import Sink

_LINE_NUMBER = re.compile(r":\d+\)$")


@attrs.frozen(kw_only=True)
class HotSpots:
    """Sample counts per function: ``self`` (at the top of the stack) and ``total`` (anywhere
    in it)."""

    samples: int
    self_samples: Counter[str]
    total_samples: Counter[str]


def py_spy_command() -> Path:
    """py-spy next to the running interpreter, else on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    found = local if local.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed: pip install py-spy (make bench does)")
    return Path(found)


def _function(frame: str) -> str:
    """``name (path/to/file.py:123)`` -> ``name (file.py)``: lines of one function merge."""
    frame = _LINE_NUMBER.sub(")", frame.strip())
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.rstrip(')')).name})" if where else name


def read_collapsed(path: Path) -> HotSpots:
    """Aggregate py-spy's raw (collapsed-stack) output: ``f1;f2;f3 COUNT`` per line."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";") if not frame.startswith("thread ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for function in set(frames):
            total[function] += count
    return HotSpots(samples=samples, self_samples=own, total_samples=total)


def format_hot_spots(spots: HotSpots, top: int = 25) -> str:
    """Two ranked tables as text: by self time and by total (inclusive) time."""
    lines = [f"{spots.samples} samples of the GIL-holding thread"]
    for title, counter in (("self", spots.self_samples), ("total", spots.total_samples)):
        lines.append(f"\ntop {top} by {title} time:")
        for function, count in counter.most_common(top):
            share = count / spots.samples if spots.samples else 0.0
            lines.append(f"  {share:6.1%}  {count:7d}  {function}")
    return "\n".join(lines)


def profile_a(
    events_path: Path, *, work_dir: Path, sink: Sink, concurrency: int, ca_bundle: Path | None,
    out: Path, rate: int = 250,
) -> HotSpots:
    """Deliver under py-spy, write the collapsed stacks to ``out`` and aggregate them."""
    config = customerio_config(
        work_dir / "profile.toml", sink.url, concurrency=concurrency, ca_bundle=ca_bundle
    )
    argv = [
        str(py_spy_command()), "record", "--format", "raw", "--gil", "--rate", str(rate),
        "--output", str(out), "--",
        str(deliverator_command()), "deliver", str(events_path), "--config", str(config),
        "--results", str(work_dir / "profile.results.jsonl"), "--no-progress",
    ]
    try:
        usage = run_measured(argv, env={**os.environ, "NO_COLOR": "1"}, output_dir=work_dir)
    finally:
        sink.stop()
    if usage.returncode != 0 or not out.exists():
        raise RuntimeError(f"profiling failed: {usage.describe_failure()}")
    return read_collapsed(out)
