"""Run one child process and measure it: wall time, CPU time and peak memory.

Peak memory needs care on Linux: a child's ``ru_maxrss`` starts from the RSS of the process
it was forked from (``exec`` keeps the old image's high-water mark), so a child of this
benchmark, which holds rich, cryptography and an event file, would report at least the
benchmark's own size. Every child is therefore started by a tiny launcher (``python -S``, a
few MB), which forks and execs the real command and reports ``os.wait4``'s usage of exactly
that process: its own figures, never mixed with other children's either
(``getrusage(RUSAGE_CHILDREN)`` keeps the largest ``ru_maxrss`` of every child ever reaped).

A measured process that starts children of its own (``deliverator deliver`` running shards):

- CPU: ``wait4``'s ``ru_utime``/``ru_stime`` of a process include every descendant it waited
  for (Linux adds a reaped child's times, and the times of the child's own reaped children,
  into its parent's). Checked with a parent that burns 0.5 s of CPU, starts a child burning
  1.0 s and waits for it: ``wait4`` of the parent gave 1.79 s; the same parent that starts the
  child without waiting and exits gave 0.60 s. A child nobody waits for is not counted, so the
  launcher makes itself a *subreaper* (``PR_SET_CHILD_SUBREAPER``): a child the measured
  process leaves behind is re-parented to the launcher instead of init, reaped there, its CPU
  added, and counted in ``unreaped`` (which should be 0: deliverator waits for its children).
- Memory: ``ru_maxrss`` of that same ``wait4`` is the *largest* of the process's and its reaped
  descendants' peaks (in the experiment: 156 MB, the child's, while parent and child together
  held about 200 MB), so it is kept as ``largest_process_rss_bytes``, and the peak of the *sum*
  over the process tree is sampled from ``/proc`` while it runs (:mod:`tree_rss`, whose
  docstring says what sampling can miss). ``max_rss_bytes`` is the tree's summed peak when more
  than one process was seen, else the exact single-process figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from tree_rss import TreePeak, TreeSampler

_LAUNCHER = """
import ctypes, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
# PR_SET_CHILD_SUBREAPER (36): orphans of the measured process come to us, not to init.
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
left, left_user, left_system, left_rss = 0, 0.0, 0.0, 0
while True:
    try:
        _, _, extra = os.wait4(-1, 0)
    except ChildProcessError:
        break
    left, left_rss = left + 1, max(left_rss, extra.ru_maxrss)
    left_user, left_system = left_user + extra.ru_utime, left_system + extra.ru_stime
with open(report, "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {wall!r} {usage.ru_utime!r} "
              f"{usage.ru_stime!r} {usage.ru_maxrss} {left} {left_user!r} {left_system!r} {left_rss}")
"""

SAMPLE_INTERVAL_S = 0.01
"""How often the process tree's resident sets are summed (see :mod:`tree_rss`)."""


@attrs.frozen(kw_only=True)
class ProcessUsage:
    """What one child process (and every process it started) cost."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    user_s: float
    """The process's and every descendant's it (or the launcher) waited for."""
    system_s: float
    largest_process_rss_bytes: int
    """The exact peak of the largest single process of the tree (``wait4``'s ``ru_maxrss``)."""
    tree: TreePeak | None
    """The sampled peak of the whole tree's summed RSS (None when not sampled)."""
    unreaped: int
    """Children the measured process left running (or unreaped) when it exited."""
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds."""
        return self.user_s + self.system_s

    @property
    def processes(self) -> int:
        """How many processes the sampler saw (at least 1: the measured process)."""
        return max(1, self.tree.processes_seen if self.tree is not None else 1)

    @property
    def tree_rss_bytes(self) -> int:
        """The summed peak of the tree: the sampled one, and never less than the largest single
        process's exact peak (the true sum at that process's peak is at least that)."""
        sampled = self.tree.peak_rss_bytes if self.tree is not None else 0
        return max(sampled, self.largest_process_rss_bytes)

    @property
    def max_rss_bytes(self) -> int:
        """Peak memory of the run: the tree's summed peak when more than one process was seen,
        else the exact peak of the one process (sampling could only miss some of it)."""
        return self.tree_rss_bytes if self.processes > 1 else self.largest_process_rss_bytes

    @property
    def max_rss_mb(self) -> float:
        """Peak resident memory in MB (10**6 bytes), as :attr:`max_rss_bytes`."""
        return self.max_rss_bytes / 1e6

    @property
    def largest_process_rss_mb(self) -> float:
        """The largest single process's peak in MB."""
        return self.largest_process_rss_bytes / 1e6

    def describe_failure(self) -> str:
        """A short account of why the child failed, for error messages."""
        tail = (self.stderr or self.stdout).strip().splitlines()[-8:]
        return f"{' '.join(self.argv[:3])} ... exited {self.returncode}:\n    " + "\n    ".join(tail)


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    output_dir: Path | None = None,
    sample_interval_s: float | None = SAMPLE_INTERVAL_S,
) -> ProcessUsage:
    """Run ``argv`` to completion and return what it cost.

    stdout and stderr go to files (in ``output_dir``, else the temporary directory) rather
    than pipes, so a chatty child can never block on a full pipe and distort the timing.
    While it runs, a thread sums the RSS of every process under the launcher (the measured
    process and its descendants, not the launcher) every ``sample_interval_s``; None turns the
    sampling off.
    """
    out_dir = output_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    paths = [out_dir / f"child-{tag}.{kind}" for kind in ("out", "err", "usage")]
    stdout_path, stderr_path, usage_path = paths
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(usage_path), *argv]
    try:
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            launched = subprocess.Popen(
                launcher, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                env=dict(os.environ if env is None else env), cwd=cwd,
            )
            sampler = None if sample_interval_s is None else TreeSampler(
                launched.pid, interval_s=sample_interval_s).start()
            try:
                returncode = launched.wait()
            except BaseException:  # as subprocess.run does: never leave the launcher running
                launched.kill()
                launched.wait()
                raise
            finally:
                tree = None if sampler is None else sampler.stop()
        if returncode != 0 or not usage_path.exists():
            raise RuntimeError(
                f"could not start {argv[0]}: {stderr_path.read_text(errors='replace')[-2000:]}"
            )
        fields = usage_path.read_text().split()
        code, wall, user, system, max_rss_kb, left, left_user, left_system, left_rss_kb = fields
        # Linux reports kilobytes (macOS bytes); the benchmarks run on Linux.
        unit = 1 if sys.platform == "darwin" else 1024
        return ProcessUsage(
            argv=tuple(argv),
            returncode=int(code),
            wall_s=float(wall),
            # A child left behind and reaped by the launcher did the run's work too.
            user_s=float(user) + float(left_user),
            system_s=float(system) + float(left_system),
            largest_process_rss_bytes=max(int(max_rss_kb), int(left_rss_kb)) * unit,
            tree=tree,
            unreaped=int(left),
            stdout=stdout_path.read_text(errors="replace"),
            stderr=stderr_path.read_text(errors="replace"),
        )
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def wall_times(argv: Sequence[str], *, runs: int, env: Mapping[str, str] | None = None) -> list[float]:
    """The wall time of each of ``runs`` runs of ``argv`` (each must succeed)."""
    times = []
    for _ in range(runs):
        usage = run_measured(argv, env=env, sample_interval_s=None)
        if usage.returncode != 0:
            raise RuntimeError(usage.describe_failure())
        times.append(usage.wall_s)
    return times


def best_wall_time(argv: Sequence[str], *, runs: int, env: Mapping[str, str] | None = None) -> float:
    """The shortest wall time of ``runs`` runs of ``argv`` (each must succeed)."""
    return min(wall_times(argv, runs=runs, env=env))
