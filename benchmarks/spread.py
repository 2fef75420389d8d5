"""min / median / max over repeated runs: every figure the benchmark reports carries its spread.

The machine the benchmarks run on is shared and noisy, so the fastest run is not a fair
figure; the median is, and the range says how much to trust it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import attrs

from results import RunResult


@attrs.frozen
class Spread:
    """The lowest, median and highest of a set of values."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values`` (at least one)."""
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(min(values), statistics.median(values), max(values))

    def to_json(self, digits: int = 4) -> dict[str, float]:
        """``{"min": ..., "median": ..., "max": ...}``, rounded."""
        return {"min": round(self.low, digits), "median": round(self.median, digits),
                "max": round(self.high, digits)}

    def format(self, spec: str = ",.0f") -> str:
        """``median (min-max)``, or the value alone when every run gave the same."""
        if self.low == self.high:
            return format(self.median, spec)
        return f"{format(self.median, spec)} ({format(self.low, spec)}-{format(self.high, spec)})"


def rates(runs: Sequence[RunResult]) -> Spread:
    """events/s over the runs of one runner."""
    return Spread.of([run.events_per_s for run in runs])


def figure(runs: Sequence[RunResult], read: Callable[[RunResult], float | None]) -> Spread | None:
    """The spread of any per-run figure (CPU, RSS), None when no run has it."""
    values = [value for value in map(read, runs) if value is not None]
    return Spread.of(values) if values else None


def ratio(numerator: Sequence[RunResult] | None, denominator: Sequence[RunResult] | None) -> Spread | None:
    """One runner's events/s over another's: median over median, and the widest honest range
    (slowest over fastest, fastest over slowest)."""
    if not numerator or not denominator:
        return None
    return divided(rates(numerator), rates(denominator))


def divided(top: Spread, bottom: Spread) -> Spread | None:
    """``top / bottom`` as a spread: median over median, lowest over highest, highest over
    lowest (None when the bottom can be 0)."""
    if bottom.low <= 0:
        return None
    return Spread(top.low / bottom.high, top.median / bottom.median, top.high / bottom.low)
