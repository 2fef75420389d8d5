"""Child processes are measured on their own: exit code, time, and their own peak memory."""

from __future__ import annotations

import sys

import pytest

from measure import best_wall_time, run_measured


def test_exit_code_and_output_of_the_child_are_kept() -> None:
    usage = run_measured([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert usage.returncode == 3
    assert usage.stdout == "hi\n"
    assert "exited 3" in usage.describe_failure()


def test_peak_rss_is_the_childs_own_not_the_parents() -> None:
    ballast = bytearray(200_000_000)  # touched below, so this process is large
    ballast[::4096] = b"x" * len(ballast[::4096])
    usage = run_measured([sys.executable, "-c", "pass"])
    assert usage.max_rss_mb < 60
    del ballast


def test_peak_rss_grows_with_what_the_child_touches() -> None:
    code = "b = bytearray(80_000_000); b[::4096] = b'x' * len(b[::4096])"
    usage = run_measured([sys.executable, "-c", code])
    assert usage.max_rss_mb > 80


def test_cpu_time_counts_the_childs_work() -> None:
    usage = run_measured([sys.executable, "-c", "sum(range(20_000_000))"])
    assert usage.cpu_s > 0.05
    assert usage.wall_s >= usage.cpu_s * 0.5


def test_a_command_that_cannot_start_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="could not start no-such-command"):
        run_measured(["no-such-command-for-bench"])


def test_best_wall_time_refuses_a_failing_command() -> None:
    with pytest.raises(RuntimeError, match="exited 1"):
        best_wall_time([sys.executable, "-c", "raise SystemExit(1)"], runs=2)
