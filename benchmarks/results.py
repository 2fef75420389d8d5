"""The values every runner returns, and their JSON form for ``benchmarks/results/``."""

from __future__ import annotations

from typing import Any

import attrs

from measure import ProcessUsage
from sink import SinkStats


@attrs.frozen(kw_only=True)
class RunResult:
    """One runner's figures for one job."""

    key: str
    """Short name: ``A``, ``B``, ``C'`` or ``C``."""
    label: str
    events: int
    seconds: float
    """Wall time the rate is computed over (what is timed is said in ``timed``)."""
    timed: str
    cpu_s: float | None = None
    max_rss_mb: float | None = None
    """Peak RSS of the run: of all its processes together when it had more than one."""
    largest_process_rss_mb: float | None = None
    """Peak RSS of its largest single process (``wait4``'s exact figure)."""
    processes: int | None = None
    """How many processes the run had (the measured one and its descendants)."""
    sink: SinkStats | None = None
    checks: dict[str, Any] = attrs.field(factory=dict)

    @staticmethod
    def usage_figures(usage: ProcessUsage) -> dict[str, Any]:
        """The keyword arguments a measured process gives: CPU, the peaks, the process count."""
        return {"cpu_s": usage.cpu_s, "max_rss_mb": usage.max_rss_mb,
                "largest_process_rss_mb": usage.largest_process_rss_mb, "processes": usage.processes}

    @property
    def events_per_s(self) -> float:
        """Events delivered per second of the timed span."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_s_per_100k(self) -> float | None:
        """CPU seconds the process used per 100,000 events."""
        if self.cpu_s is None or not self.events:
            return None
        return self.cpu_s * 100_000 / self.events

    @property
    def sink_cpu_share(self) -> float | None:
        """The sink's CPU seconds per second of this run (1.0 = one core flat out)."""
        if self.sink is None or self.seconds <= 0:
            return None
        return self.sink.cpu_s / self.seconds

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the results file."""
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "events": self.events,
            "seconds": round(self.seconds, 4),
            "timed": self.timed,
            "events_per_s": round(self.events_per_s, 1),
            "cpu_s": None if self.cpu_s is None else round(self.cpu_s, 3),
            "cpu_s_per_100k": _round(self.cpu_s_per_100k),
            "max_rss_mb": _round(self.max_rss_mb),
            "largest_process_rss_mb": _round(self.largest_process_rss_mb),
            "processes": self.processes,
            "sink_cpu_share": _round(self.sink_cpu_share),
            "checks": self.checks,
        }
        if self.sink is not None:
            data["sink"] = {
                "requests": self.sink.requests,
                "body_bytes": self.sink.body_bytes,
                "cpu_s": round(self.sink.cpu_s, 3),
                "workers": self.sink.workers,
                "routes": dict(self.sink.routes),
                "statuses": dict(self.sink.statuses),
            }
        return data


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
