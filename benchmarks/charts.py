"""PNG charts of a benchmark run (matplotlib, a bench-only dependency): events/s per runner
with its spread, and the adaptive concurrency limit over time against the rate-limited and
the knee sinks. ``run.py`` writes them next to the JSON results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # the backend must be chosen first


def throughput_chart(runs: dict[str, Any], path: Path, title: str) -> Path:
    """Median events/s per runner, with a bar from min to max. C (the zero-work baseline, ten
    times faster) and B (one request per event, fifty times slower) are left out: on one
    linear scale they would flatten the runners worth comparing. A (deliverator's defaults) and
    A1 (``processes = 1``) stand side by side."""
    keys = [key for key in ("A", "A1", "Ax2", "C'", "B'", "B'x4") if key in runs]
    medians = [runs[key]["events_per_s"]["median"] for key in keys]
    low = [m - runs[key]["events_per_s"]["min"] for key, m in zip(keys, medians, strict=True)]
    high = [runs[key]["events_per_s"]["max"] - m for key, m in zip(keys, medians, strict=True)]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    colours = ["#1f77b4" if key.startswith("A") else "#999999" for key in keys]
    axes.bar(keys, medians, yerr=[low, high], capsize=6, color=colours)
    axes.set_ylabel("events/s (median; bars: min to max)")
    axes.set_title(title, fontsize=10)
    for index, value in enumerate(medians):
        axes.annotate(f"{value:,.0f}", (index, value), textcoords="offset points", xytext=(0, 4),
                      ha="center", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def limit_chart(arc: dict[str, Any], path: Path) -> Path:
    """The adaptive limit over time against the rate-limited sink (and the knee sink)."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    limited = arc.get("rate_limited")
    if limited:
        shape = limited["shape"]
        times, limits = zip(*limited["samples"], strict=True) if limited["samples"] else ((), ())
        label = f"rate-limited sink ({shape['rate']:.0f} req/s, {shape['latency_s'] * 1000:.0f} ms)"
        axes.plot(times, limits, label=label, color="#1f77b4")
        axes.axhline(shape["rate"] * shape["latency_s"], color="#1f77b4", linestyle=":", linewidth=1,
                     label="rate x latency (requests in flight the rate allows)")
    bent = arc.get("knee")
    if bent:
        shape = bent["shape"]
        times, limits = zip(*bent["samples"], strict=True) if bent["samples"] else ((), ())
        axes.plot(times, limits, label=f"knee sink ({shape['workers']} at once, {shape['service_s']*1000:.0f} ms)",
                  color="#d62728")
        axes.axhline(shape["workers"], color="#d62728", linestyle=":", linewidth=1, label="the knee")
    axes.set_xlabel("seconds into the run")
    axes.set_ylabel("adaptive concurrency limit")
    axes.set_title("Adaptive request concurrency (sampled every 50 ms)", fontsize=10)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
