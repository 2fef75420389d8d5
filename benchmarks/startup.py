"""Start-up time of the command line: how long ``deliverator --help`` and ``deliverator
destinations`` take, best of a few runs (the best run is the one least disturbed by the rest
of the machine), with the median and the slowest beside it."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from measure import wall_times
from spread import Spread


@attrs.frozen(kw_only=True)
class StartupTimes:
    """Wall times, in seconds, of each command: every run's, and the best."""

    help: Spread
    destinations: Spread
    runs: int

    @property
    def help_s(self) -> float:
        """The best ``--help`` run."""
        return self.help.low

    @property
    def destinations_s(self) -> float:
        """The best ``destinations`` run."""
        return self.destinations.low


def measure_startup(deliverator: Path, runs: int = 5) -> StartupTimes:
    """Time both commands ``runs`` times each."""
    env = {**os.environ, "NO_COLOR": "1"}
    return StartupTimes(
        help=Spread.of(wall_times([str(deliverator), "--help"], runs=runs, env=env)),
        destinations=Spread.of(wall_times([str(deliverator), "destinations"], runs=runs, env=env)),
        runs=runs,
    )
