"""A process tree is measured as a whole: the sampled sum of its processes' resident sets, how
many there were, and the CPU of children the measured process waited for (or left behind)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from measure import run_measured
from tree_rss import HAS_CHILDREN_FILES, TreeSampler, descendants, rss_bytes

ALLOCATION = 30_000_000

# A child that allocates and touches 30 MB, says so, and holds it until its stdin closes.
CHILD = textwrap.dedent(f"""
    import sys
    ballast = bytearray({ALLOCATION})
    ballast[::4096] = b"x" * len(ballast[::4096])
    print("ready", flush=True)
    sys.stdin.read()
""")

# A parent that starts two such children, waits until both hold their memory, then either
# holds on until its own stdin closes ("wait") or for a second ("hold": long enough for a
# 10 ms sampler), then lets them go and waits for them.
PARENT = textwrap.dedent(f"""
    import subprocess, sys, time
    children = [subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE) for _ in range(2)]
    for child in children:
        assert child.stdout.readline() == b"ready\\n"
    print("both ready", flush=True)
    if sys.argv[1] == "wait":
        sys.stdin.read()
    else:
        time.sleep(1.0)
    for child in children:
        child.stdin.close()
        child.wait()
""")


def _burn(seconds: float) -> str:
    return f"import time\nt = time.process_time()\nwhile time.process_time() - t < {seconds}: pass\n"


@pytest.mark.parametrize("scan", [False, True], ids=["children-files", "ppid-scan"])
def test_one_sample_sums_the_parent_and_both_children(scan: bool) -> None:
    if not scan and not HAS_CHILDREN_FILES:
        pytest.skip("this kernel has no /proc/<pid>/task/<tid>/children")
    with subprocess.Popen([sys.executable, "-c", PARENT, "wait"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as parent:
        assert parent.stdout is not None and parent.stdin is not None
        assert parent.stdout.readline() == b"both ready\n"
        children = descendants(parent.pid, scan=scan)
        sampler = TreeSampler(parent.pid, include_root=True, scan=scan)
        total = sampler.sample()
        largest = max(rss_bytes(pid) for pid in [parent.pid, *children])
        parent.stdin.close()
    peak = sampler.stop()
    assert len(children) == 2
    assert total >= 2 * ALLOCATION
    assert total > largest
    assert (peak.peak_rss_bytes, peak.processes_seen, peak.most_at_once, peak.samples) == (total, 3, 3, 1)


def test_run_measured_reports_the_summed_peak_of_the_tree_and_its_largest_process() -> None:
    usage = run_measured([sys.executable, "-c", PARENT, "hold"])
    assert usage.returncode == 0, usage.stderr
    assert usage.tree is not None
    assert usage.processes == 3
    assert usage.unreaped == 0
    # Sampled: at least both allocations (a little under them would be sampling's fault).
    assert usage.tree.peak_rss_bytes >= 2 * ALLOCATION - 2_000_000
    assert usage.tree.peak_rss_bytes >= usage.largest_process_rss_bytes
    # wait4's figure is the largest single process (a child: 30 MB and an interpreter), not the sum.
    assert ALLOCATION <= usage.largest_process_rss_bytes < 2 * ALLOCATION
    assert usage.max_rss_bytes == usage.tree_rss_bytes >= 2 * ALLOCATION - 2_000_000


def test_a_single_process_reports_its_exact_peak() -> None:
    usage = run_measured([sys.executable, "-c", "pass"])
    assert usage.processes == 1
    assert usage.max_rss_bytes == usage.largest_process_rss_bytes


def test_without_sampling_the_peak_is_the_largest_process() -> None:
    usage = run_measured([sys.executable, "-c", PARENT, "hold"], sample_interval_s=None)
    assert usage.tree is None
    assert usage.processes == 1
    assert usage.max_rss_bytes == usage.largest_process_rss_bytes


def test_cpu_of_a_child_the_process_waited_for_is_counted() -> None:
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {_burn(0.3)!r}], check=True)\n"
    usage = run_measured([sys.executable, "-c", parent])
    assert usage.returncode == 0, usage.stderr
    assert usage.cpu_s >= 0.3
    assert usage.unreaped == 0


def test_a_child_left_behind_is_reaped_counted_and_its_cpu_kept() -> None:
    # posix_spawn, unlike subprocess.Popen, never reaps: the parent exits with its child running.
    parent = f"import os, sys\nos.posix_spawn(sys.executable, [sys.executable, '-c', {_burn(0.3)!r}], os.environ)\n"
    usage = run_measured([sys.executable, "-c", parent])
    assert usage.returncode == 0, usage.stderr
    assert usage.unreaped == 1
    assert usage.cpu_s >= 0.3


def test_a_process_that_does_not_exist_has_no_rss_and_no_children() -> None:
    never = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    assert rss_bytes(never) == 0
    assert descendants(never) == []
    assert descendants(never, scan=True) == []
