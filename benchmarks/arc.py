"""Adaptive request concurrency against three sinks (``run.py --only arc``):

1. the fast sink: ``deliverator deliver`` with fixed concurrency 1, 2, 4, 8, 16 and with
   ``concurrency = "adaptive"``; adaptive should reach 0.95 of the best fixed figure;
2. a sink allowing ``rate`` requests a second (token bucket, 429 with ``Retry-After`` beyond
   it): goodput should be at least 0.9 x rate and 429s at most 5 % of requests;
3. a sink whose latency grows with the requests in flight beyond ``workers`` (the knee):
   the limit should settle near the knee.

Runs 2 and 3 go through ``arc_job.py``, which samples the limit every 50 ms for the chart.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from deliverator_job import customerio_config, run_a
from measure import run_measured
from results import RunResult
from sink import Shape, Sink, TlsFiles
from spread import rates

HERE = Path(__file__).resolve().parent
FIXED = (1, 2, 4, 8, 16)
SMALL_BATCH = 20
"""Events a request in runs 2 and 3: enough requests a second to exercise the limit without
the client's CPU being the bottleneck."""


def fast_sink(
    events_path: Path, events: int, *, repeated: Callable[[str, Callable[[], RunResult]], list[RunResult]],
    sink: Callable[[], Sink], work_dir: Path, ca_bundle: Path | None,
) -> dict[str, Any]:
    """Fixed concurrencies and adaptive on the fast sink: events/s with spread. One delivery
    process (``processes = 1``), so that the comparison is of the limit's rules alone: with
    several processes each runs its own limit over its share."""
    figures: dict[str, Any] = {}
    runs: dict[str, list[RunResult]] = {}
    for concurrency in (*FIXED, "adaptive"):
        key = f"fixed {concurrency}" if concurrency != "adaptive" else "adaptive"
        runs[key] = repeated(f"arc: fast sink, concurrency {concurrency}", lambda c=concurrency: run_a(
            events_path, events, work_dir=work_dir, sink=sink(), concurrency=c, ca_bundle=ca_bundle,
            tally=False, tag="arc", processes=1))  # the controller alone: one process, one limit
        figures[key] = rates(runs[key]).to_json(1)
    best_key = max((key for key in runs if key != "adaptive"), key=lambda key: figures[key]["median"])
    figures["best_fixed"] = best_key
    figures["adaptive/best_fixed"] = round(figures["adaptive"]["median"] / figures[best_key]["median"], 4)
    (work_dir / "arc.results.jsonl").unlink(missing_ok=True)
    return figures


def shaped_run(
    events_path: Path, *, mode: str, shape: Shape, work_dir: Path, tls: TlsFiles | None, ca_bundle: Path | None,
    max_concurrency: int | None = None, concurrency: int | str = "adaptive",
) -> dict[str, Any]:
    """One run against a ``limited`` or ``knee`` sink, through ``arc_job.py`` (adaptive unless
    ``concurrency`` says otherwise)."""
    sink = Sink(mode=mode, tls=tls, shape=shape)  # type: ignore[arg-type]  # mode is one of the two
    sink.start()
    keys: dict[str, Any] = {"batch_size": SMALL_BATCH, "linger_s": 0.05}
    if max_concurrency is not None:
        keys["max_concurrency"] = max_concurrency
    config = customerio_config(work_dir / f"arc-{mode}.toml", sink.url, concurrency=concurrency,
                               ca_bundle=ca_bundle, **keys)
    results = work_dir / f"arc-{mode}.results.jsonl"
    argv = [sys.executable, str(HERE / "arc_job.py"), str(config), str(events_path), str(results)]
    try:
        usage = run_measured(argv, output_dir=work_dir)
    finally:
        stats = sink.stop()
    if usage.returncode != 0:
        raise RuntimeError(f"arc ({mode}) failed: {usage.describe_failure()}")
    line = next(line for line in reversed(usage.stdout.splitlines()) if line.startswith("{"))
    run = orjson.loads(line)
    results.unlink(missing_ok=True)
    accepted, refused = stats.statuses.get("200", 0), stats.statuses.get("429", 0)
    samples = run.pop("samples")
    later = [limit for at, limit in samples if at >= run["seconds"] / 2]
    return {
        **run, "requests": stats.requests, "accepted": accepted, "refused_429": refused,
        "refused_share": round(refused / stats.requests, 4) if stats.requests else None,
        "accepted_per_s": round(accepted / run["seconds"], 1),
        "sink_active_s": round(stats.active_s, 3),
        "accepted_per_active_s": round(accepted / stats.active_s, 1) if stats.active_s > 0 else None,
        "limit_second_half": {"min": min(later), "median": statistics.median(later), "max": max(later),
                              "mean": round(statistics.fmean(later), 2)} if later else None,
        "samples": samples,
        "concurrency": concurrency,
        "shape": {"rate": shape.rate, "burst": shape.burst, "latency_s": shape.latency_s,
                  "workers": shape.workers, "service_s": shape.service_s},
    }


def rate_limited(events_path: Path, **kwargs: Any) -> dict[str, Any]:
    """Against ``limited``: goodput as a share of the allowed rate, and the 429 share."""
    shape: Shape = kwargs.pop("shape")
    run = shaped_run(events_path, mode="limited", shape=shape, **kwargs)
    run["goodput_share"] = round(run["accepted_per_s"] / shape.rate, 4)
    active = run["accepted_per_active_s"]
    run["goodput_share_while_sending"] = None if active is None else round(active / shape.rate, 4)
    return run


def knee(events_path: Path, **kwargs: Any) -> dict[str, Any]:
    """Against ``knee``: where the limit settles, and throughput against the knee's."""
    shape: Shape = kwargs.pop("shape")
    run = shaped_run(events_path, mode="knee", shape=shape, **kwargs)
    run["throughput_share"] = round(run["accepted_per_s"] / (shape.workers / shape.service_s), 4)
    return run
