"""The queue scale-out runner: its figures, and one tiny real run (two workers, a real
redis-server, the sink) that must come out complete."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from queue_scale import main, parse_args, summarise


def test_the_figures_are_min_median_max_and_the_ratio_of_medians() -> None:
    args = parse_args(["--events", "10", "--repeat", "3", "--workers", "1,2"])
    runs = {
        1: [{"events_per_s": rate} for rate in (100, 120, 90)],
        2: [{"events_per_s": rate} for rate in (190, 210, 150)],
    }
    report = summarise(args, runs)
    assert {key: report["workers"][key]["median"] for key in ("1", "2")} == {"1": 100, "2": 190}
    assert (report["workers"]["2"]["min"], report["workers"]["2"]["max"]) == (150, 210)
    assert "(1.90 x 1 worker(s), medians)" in report["lines"][2]


def test_worker_counts_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0,2"])


@pytest.mark.skipif(
    shutil.which("redis-server") is None and not os.environ.get("CI"),
    reason="needs redis-server (under CI, where it must be installed, this fails instead)",
)
def test_a_tiny_run_completes_with_every_event_delivered(tmp_path: Path) -> None:
    assert main(["--events", "300", "--repeat", "1", "--workers", "2", "--results-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "queue-scale-latest.json").read_text())
    (run,) = report["workers"]["2"]["runs"]
    assert run["events"] == 300 and len(run["worker_cpu_s"]) == 2
