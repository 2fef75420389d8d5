"""Peak memory of a whole process tree, sampled from ``/proc`` while it runs.

``os.wait4`` gives one ``ru_maxrss``: the high-water mark of that process and of the
descendants it waited for, as a *maximum* (Linux keeps the largest, never a sum). For a run of
one parent and K children that is the largest single process, which says nothing about what
the run needs as a whole. This module samples the *sum* of the resident sets of a process's
descendants every ``interval_s`` (10 ms by default) from a thread of the benchmark process and
keeps the highest sum, and how many processes it saw.

What sampling misses, honestly:

- A peak shorter than the interval: the sum is read at instants, so a spike that rises and falls
  between two samples is not seen. The reported peak is a lower bound on the true one (callers
  also take the max with ``wait4``'s exact single-process peak, which the true sum can never be
  under).
- The tree itself is walked every ``walk_every`` samples (every 50 ms by default), the resident
  sets of the processes it found read at every sample: a new process is first summed up to that
  much later, and one that starts and ends in between is neither summed nor counted. (Walking
  reads one file per thread of every process, about 0.35 ms of CPU for three processes of nine
  threads; at every 10 ms sample that would be 3.5 % of a core taken from the measured run.)
- The processes are read one after another, not at one instant: within one sample a process
  that just freed memory may be summed with another that has not yet allocated it.
- RSS counts a shared page in every process that maps it (the interpreter's and shared
  libraries' code, pages shared copy-on-write after a fork without exec), so the sum is higher
  than the physical memory the tree uses when its processes share pages. PSS would split them,
  but reading ``smaps_rollup`` walks every mapping and costs far more per sample.
- A pid reused by a new process during the run would be counted once in ``processes_seen``.

The resident set is read from ``/proc/<pid>/statm`` (its second field, in pages): the same
counters as ``VmRSS`` in ``/proc/<pid>/status`` (anonymous + file + shared memory pages), in a
line that is cheaper to read and parse. The sampler runs in the benchmark's process, so its
CPU never adds to the measured tree's; it does compete for the same cores, so what it used is
reported (``sampler_cpu_s``).

Descendants are found through ``/proc/<pid>/task/<tid>/children`` (every thread's children;
Linux's CONFIG_PROC_CHILDREN). On a kernel without it, every ``/proc/<pid>/stat`` is read for
its parent pid instead: correct, but much dearer on a busy machine.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import attrs

_PAGE = os.sysconf("SC_PAGE_SIZE")
_PROC = Path("/proc")


def _has_children_files() -> bool:
    me = os.getpid()
    return (_PROC / str(me) / "task" / str(me) / "children").exists()


HAS_CHILDREN_FILES = _has_children_files()
"""Whether this kernel lists each thread's children (otherwise the ppid scan is used)."""


def _children_of(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (none if it has gone)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:  # gone
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as listing:
                found.extend(int(child) for child in listing.read().split())
        except OSError:  # the thread or the process ended meanwhile
            continue
    return found


def _parents() -> dict[int, list[int]]:
    """Every process's children, from the parent pid in each ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after
        # the last ")".
        fields = text[text.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int, *, scan: bool | None = None) -> list[int]:
    """Every live descendant of ``pid`` (children, their children, ...), not ``pid`` itself.

    ``scan`` forces (True) or forbids (False) the ``/proc/*/stat`` scan; by default it is used
    only when the kernel has no children files.
    """
    use_scan = not HAS_CHILDREN_FILES if scan is None else scan
    tree = _parents() if use_scan else None
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        kids = tree.get(current, []) if tree is not None else _children_of(current)
        found.extend(kids)
        frontier.extend(kids)
    return found


def rss_bytes(pid: int) -> int:
    """The resident set of ``pid`` in bytes; 0 if it has gone (or is a zombie)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


@attrs.frozen(kw_only=True)
class TreePeak:
    """What the sampler saw of one process tree."""

    peak_rss_bytes: int
    """The highest sum of resident sets over one sample."""
    processes_at_peak: int
    most_at_once: int
    """The most processes alive in one sample."""
    processes_seen: int
    """Distinct processes seen alive in any sample."""
    samples: int
    interval_s: float
    sampler_cpu_s: float
    """CPU the sampling thread used (in the benchmark's process, not the measured tree's)."""


class TreeSampler:
    """Samples the summed RSS of ``root``'s descendants (and ``root`` itself if asked) until
    stopped. ``sample()`` takes one sample now; ``start()`` / ``stop()`` run a thread taking one
    every ``interval_s``."""

    def __init__(self, root: int, *, include_root: bool = False, interval_s: float = 0.01, walk_every: int = 5,
                 scan: bool | None = None) -> None:
        self.root = root
        self.include_root = include_root
        self.interval_s = interval_s
        self.walk_every = walk_every
        self.scan = scan
        self._pids: list[int] = []
        self._lock = threading.Lock()
        self._peak = 0
        self._at_peak = 0
        self._most = 0
        self._seen: set[int] = set()
        self._samples = 0
        self._cpu_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self, *, walk: bool = True) -> int:
        """Take one sample (walking the tree afresh, or reading the processes the last walk
        found); return the sum of resident sets it found."""
        if walk:
            self._pids = descendants(self.root, scan=self.scan)
            if self.include_root:
                self._pids.append(self.root)
        total, alive = 0, []
        for pid in self._pids:
            rss = rss_bytes(pid)
            if rss > 0:
                total += rss
                alive.append(pid)
        with self._lock:
            self._samples += 1
            self._seen.update(alive)
            self._most = max(self._most, len(alive))
            if total > self._peak:
                self._peak, self._at_peak = total, len(alive)
        return total

    def _run(self) -> None:
        started = time.thread_time()
        try:
            self.sample()
            count = 1
            while not self._stop.wait(self.interval_s):
                self.sample(walk=count % self.walk_every == 0)
                count += 1
        finally:
            self._cpu_s = time.thread_time() - started

    def start(self) -> TreeSampler:
        """Sample in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name=f"tree-rss-{self.root}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> TreePeak:
        """Stop the thread (if started) and return what was seen."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            return TreePeak(
                peak_rss_bytes=self._peak, processes_at_peak=self._at_peak, most_at_once=self._most,
                processes_seen=len(self._seen), samples=self._samples, interval_s=self.interval_s,
                sampler_cpu_s=self._cpu_s,
            )
