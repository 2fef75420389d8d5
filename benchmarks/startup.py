"""Start-up time of the command line: how long ``deliverator --help`` and ``deliverator
destinations`` take, best of a few runs (the best run is the one least disturbed by the rest
of the machine)."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from measure import best_wall_time


@attrs.frozen(kw_only=True)
class StartupTimes:
    """Best wall time, in seconds, of each command."""

    help_s: float
    destinations_s: float
    runs: int


def measure_startup(deliverator: Path, runs: int = 5) -> StartupTimes:
    """Time both commands ``runs`` times each and keep the best."""
    env = {**os.environ, "NO_COLOR": "1"}
    return StartupTimes(
        help_s=best_wall_time([str(deliverator), "--help"], runs=runs, env=env),
        destinations_s=best_wall_time([str(deliverator), "destinations"], runs=runs, env=env),
        runs=runs,
    )
