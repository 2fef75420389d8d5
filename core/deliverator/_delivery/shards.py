"""A file run over several delivery processes: the parent's side.

The parent starts ``count`` delivery processes (:mod:`.shard_process`), sends each its share
(:mod:`.sharding`), and from then on is the run's only writer: every burst of outcome lines a
process hands over goes into the one results file and the one dead-letter file, is committed to
the journal, and only then is the process told it is committed. The contract of a one-process
file run holds unchanged: one outcome record per input record, the journal and ``resuming: K of
N``, exit code 3 after a stop, 4 when outcomes cannot be written. What a kill -9 of the parent
can cost is what was in flight in every process: at most ``(concurrency + processes) x
batch_size`` events are sent twice, each with its dedup id.

- Ctrl-C / SIGTERM (:meth:`ShardedRun.cancel`): each process is sent SIGTERM and stops as a
  one-process run does, releasing what has no outcome.
- Outcomes that cannot be written: every process is refused its next commit (it stops sending
  at once) and sent SIGTERM; nothing more is written.
- A delivery process that ends before its share does (killed, crashed): the others are stopped,
  the run ends resumable, and the error names the process and how it ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Final

import attrs

from deliverator._clock import Clock, RealClock
from deliverator._config import Config
from deliverator._delivery.filerun import OpenedRun
from deliverator._delivery.journal import JournaledSink, index_ranges
from deliverator._delivery.sharding import (
    BURST,
    COMMITTED,
    DONE,
    FAILED,
    PROGRESS,
    REFUSED,
    ShardTask,
    config_for,
)
from deliverator._delivery.sources import OutputError
from deliverator._delivery.summary import Summary

_PROGRESS_EVERY_S: Final = 0.2
_POLL_S: Final = 0.2
_MODULE: Final = "deliverator._delivery.shard_process"


@attrs.define
class _Process:
    """One delivery process, as the parent sees it."""

    number: int
    popen: subprocess.Popen[bytes]
    conn: Connection
    latest: Summary = attrs.field(factory=Summary)
    """Its counts so far (its last progress report, then its final summary)."""
    bytes_read: int = 0
    finished: bool = False
    signalled: bool = False

    def stop(self) -> None:
        """Ask it to stop as a cancelled run does (once)."""
        if not self.signalled and self.popen.poll() is None:
            self.signalled = True
            self.popen.send_signal(signal.SIGTERM)

    def ended_how(self) -> str:
        """How it ended, for the error message."""
        try:
            code = self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            return f"was killed by signal {signal.Signals(-code).name}"
        return f"exited with status {code}"


class ShardedRun:
    """Delivers a file run's records through ``count`` delivery processes (see the module
    docstring); the parent records everything."""

    def __init__(
        self,
        config: Config,
        input_path: Path,
        opened: OpenedRun,
        count: int,
        *,
        clock: Clock | None = None,
        progress: Callable[[Summary, int], None] | None = None,
    ) -> None:
        assert isinstance(opened.sink, JournaledSink), "a run over several processes is a journaled file run"
        self._config = config
        self._input = input_path
        self._opened = opened
        self._sink: JournaledSink = opened.sink
        self._count = count
        self._clock = clock or RealClock()
        self._progress = progress
        self._cancel = threading.Event()
        self._processes: list[_Process] = []
        self._error: OutputError | None = None
        self._process_error: str | None = None

    def cancel(self) -> None:
        """Stop the run (safe from a signal handler: the parent's loop forwards it)."""
        self._cancel.set()

    def run(self) -> Summary:
        """Run every process to its end; returns the whole run's summary."""
        base = self._opened.summary
        lifeline_read, lifeline_write = os.pipe()
        try:
            done = index_ranges(sorted(self._opened.done))
            for number in range(self._count):
                self._processes.append(self._start(number, done, lifeline_read))
            os.close(lifeline_read)
            lifeline_read = -1
            self._loop()
        except BaseException:
            # A second Ctrl-C (KeyboardInterrupt) stops at once: what the processes had in
            # flight has no outcome, and the journal keeps it pending.
            for process in self._processes:
                with contextlib.suppress(OSError):
                    process.popen.kill()
            raise
        finally:
            for process in self._processes:
                process.stop()
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    process.popen.wait(timeout=30)
                process.conn.close()
            if lifeline_read >= 0:
                os.close(lifeline_read)
            os.close(lifeline_write)
        summary = self._whole(base)
        finished = not summary.interrupted and self._error is None and self._process_error is None
        if self._error is None:
            try:
                self._sink.close(finished)
            except OutputError as exc:
                self._error = exc
        else:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self._sink.close(False)
        if self._error is not None:
            summary.output_error = str(self._error)
            summary.broken_pipe = self._error.broken_pipe
        if self._process_error is not None:
            summary.process_error = self._process_error
        summary.interrupted = not finished
        return summary

    # --- processes ------------------------------------------------------------------------

    def _start(self, number: int, done: list[tuple[int, int]], lifeline: int) -> _Process:
        ours, theirs = socket.socketpair()
        try:
            popen = subprocess.Popen(
                # The input's path is there for ``ps``: the process gets its task over the socket.
                [sys.executable, "-m", _MODULE, str(theirs.fileno()), str(lifeline), str(self._input)],
                pass_fds=(theirs.fileno(), lifeline),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        conn.send(
            ShardTask(
                config=config_for(self._config, self._count, number),
                input=str(self._input),
                number=number,
                count=self._count,
                done=done,
            )
        )
        return _Process(number, popen, conn)

    def _loop(self) -> None:
        live = {process.conn: process for process in self._processes}
        last_progress = self._clock.monotonic()
        stopping = False
        while live:
            if not stopping and (self._cancel.is_set() or self._error is not None or self._process_error):
                stopping = True
                for process in self._processes:
                    process.stop()
            bursts: list[tuple[_Process, Any]] = []
            for conn in wait(list(live), timeout=_POLL_S):
                assert isinstance(conn, Connection)
                process = live[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    del live[conn]
                    if not process.finished:
                        self._lost(process)
                    continue
                kind = message[0]
                if kind == BURST:
                    bursts.append((process, message))
                elif kind == PROGRESS:
                    process.latest, process.bytes_read = message[1], message[2]
                elif kind == DONE:
                    process.latest, process.finished = message[1], True
                    del live[conn]
                elif kind == FAILED:
                    self._process_error = f"delivery process {process.number} could not start: {message[1]}"
            if bursts:
                self._commit(bursts)
            now = self._clock.monotonic()
            if self._progress is not None and now - last_progress >= _PROGRESS_EVERY_S:
                last_progress = now
                self._report_progress()
        if self._progress is not None:
            self._report_progress()

    def _lost(self, process: _Process) -> None:
        if self._process_error is None:
            self._process_error = (
                f"delivery process {process.number} (pid {process.popen.pid}) {process.ended_how()} "
                "before its share of the input was done"
            )

    def _commit(self, bursts: list[tuple[_Process, Any]]) -> None:
        """Write every burst that arrived, commit them in one journal transaction, then tell
        each process (or refuse them all, once the output has failed)."""
        if self._error is None:
            try:
                for _, (_, indices, results, dead_letters) in bursts:
                    self._sink.add_block(indices, results, dead_letters)
                self._sink.commit()
            except OutputError as exc:
                self._error = exc
        answer = (COMMITTED,) if self._error is None else (REFUSED, str(self._error), self._error.broken_pipe)
        for process, _ in bursts:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                process.conn.send(answer)

    # --- counts ---------------------------------------------------------------------------

    def _whole(self, base: Summary) -> Summary:
        """The run's summary: an earlier run's counts (resumed) plus every process's."""
        whole = attrs.evolve(
            base,
            failures_by_type=base.failures_by_type.copy(),
            unsent_failures_by_type=base.unsent_failures_by_type.copy(),
            ignored_by_reason=base.ignored_by_reason.copy(),
        )
        for process in self._processes:
            whole.absorb(process.latest)
        reads = [process.latest.read for process in self._processes]
        whole.read = min(reads) if reads else 0
        return whole

    def _report_progress(self) -> None:
        assert self._progress is not None
        self._progress(self._whole(self._opened.summary), min(p.bytes_read for p in self._processes))
