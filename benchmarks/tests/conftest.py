"""The benchmark modules are scripts in ``benchmarks/`` (run as ``python benchmarks/run.py``),
and the benchsink plugin is not installed outside ``make bench``: put both on the path."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]
for path in (BENCHMARKS, BENCHMARKS / "bench_destination"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
