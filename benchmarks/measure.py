"""Run one child process and measure it: wall time, CPU time and peak memory.

Peak memory needs care on Linux: a child's ``ru_maxrss`` starts from the RSS of the process
it was forked from (``exec`` keeps the old image's high-water mark), so a child of this
benchmark, which holds rich, cryptography and an event file, would report at least the
benchmark's own size. Every child is therefore started by a tiny launcher (``python -S``, a
few MB), which forks and execs the real command and reports ``os.wait4``'s usage of exactly
that process: its own figures, never mixed with other children's either
(``getrusage(RUSAGE_CHILDREN)`` keeps the largest ``ru_maxrss`` of every child ever reaped).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {wall!r} {usage.ru_utime!r} "
              f"{usage.ru_stime!r} {usage.ru_maxrss}")
"""


@attrs.frozen(kw_only=True)
class ProcessUsage:
    """What one child process cost."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    user_s: float
    system_s: float
    max_rss_bytes: int
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds."""
        return self.user_s + self.system_s

    @property
    def max_rss_mb(self) -> float:
        """Peak resident memory in MB (10**6 bytes)."""
        return self.max_rss_bytes / 1e6

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
) -> ProcessUsage:
    """Run ``argv`` to completion and return what it cost.

    stdout and stderr go to files (in ``output_dir``, else the temporary directory) rather
    than pipes, so a chatty child can never block on a full pipe and distort the timing.
    """
    out_dir = output_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    paths = [out_dir / f"child-{tag}.{kind}" for kind in ("out", "err", "usage")]
    stdout_path, stderr_path, usage_path = paths
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(usage_path), *argv]
    try:
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            launched = subprocess.run(
                launcher, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                env=dict(os.environ if env is None else env), cwd=cwd, check=False,
            )
        if launched.returncode != 0 or not usage_path.exists():
            raise RuntimeError(
                f"could not start {argv[0]}: {stderr_path.read_text(errors='replace')[-2000:]}"
            )
        code, wall, user, system, max_rss_kb = usage_path.read_text().split()
        return ProcessUsage(
            argv=tuple(argv),
            returncode=int(code),
            wall_s=float(wall),
            user_s=float(user),
            system_s=float(system),
            # Linux reports kilobytes (macOS bytes); the benchmarks run on Linux.
            max_rss_bytes=int(max_rss_kb) * (1 if sys.platform == "darwin" else 1024),
            stdout=stdout_path.read_text(errors="replace"),
            stderr=stderr_path.read_text(errors="replace"),
        )
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def best_wall_time(argv: Sequence[str], *, runs: int, env: Mapping[str, str] | None = None) -> float:
    """The shortest wall time of ``runs`` runs of ``argv`` (each must succeed)."""
    best = float("inf")
    for _ in range(runs):
        usage = run_measured(argv, env=env)
        if usage.returncode != 0:
            raise RuntimeError(usage.describe_failure())
        best = min(best, usage.wall_s)
    return best
