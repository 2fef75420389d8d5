"""Outcome sinks without a journal: outcome records to a stream (standard output, or a file of
a run that cannot resume), dead letters to a file opened only when the first event fails.

A stream cannot take back what it was given, so nothing here acknowledges anything: the
source of such a run is standard input, or a file that is read once.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import IO

from deliverator._delivery.sources import OutputError, SourceRecord

DeadLetterOpener = Callable[[], IO[bytes]]
"""Opens the dead-letter file; called once, when the first event fails."""


def output_error(exc: OSError, what: str) -> OutputError:
    """The one-line account of a failed write of outcome records."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return OutputError(f"cannot write {what}: the reader closed the pipe", broken_pipe=True)
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {what}: {reason}")


class StreamSink:
    """Writes outcome lines to ``results`` (None: nowhere) and dead letters through
    ``dead_letters`` (a stream, an opener called on the first failure, or None)."""

    def __init__(
        self,
        results: IO[bytes] | None,
        dead_letters: IO[bytes] | DeadLetterOpener | None,
        results_name: str = "outcome records",
    ) -> None:
        self._results = results
        self._results_name = results_name
        self._dead: IO[bytes] | None = None
        self._open_dead: DeadLetterOpener | None = None
        if callable(dead_letters):
            self._open_dead = dead_letters
        else:
            self._dead = dead_letters
        self._lines: list[bytes] = []
        self._dead_lines: list[bytes] = []

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """Buffer one outcome (and its dead letter)."""
        self._lines.append(outcome)
        if dead_letter is not None:
            self._dead_lines.append(dead_letter)

    def add_block(self, indices: list[int], results: bytes, dead_letters: bytes) -> None:
        """Outcome lines already joined, for the records at ``indices`` (records refused in a
        block: see :mod:`deliverator._delivery.refusal`)."""
        if results:
            self._lines.append(results)
        if dead_letters:
            self._dead_lines.append(dead_letters)

    def commit(self) -> None:
        """Write what was added (one write for many records)."""
        if self._lines:
            data = b"".join(self._lines)
            self._lines.clear()
            if self._results is not None:
                try:
                    # Flushed with each burst: a write that fails (a full disk, a closed pipe)
                    # must stop the run now, not after a buffer's worth of deliveries.
                    self._results.write(data)
                    self._results.flush()
                except OSError as exc:
                    raise output_error(exc, self._results_name) from None
        if self._dead_lines:
            data = b"".join(self._dead_lines)
            self._dead_lines.clear()
            try:
                if self._dead is None and self._open_dead is not None:
                    self._dead = self._open_dead()
                if self._dead is not None:
                    self._dead.write(data)
                    self._dead.flush()
            except OSError as exc:
                raise output_error(exc, "dead letters") from None

    def close(self, finished: bool) -> None:
        """Write what is left and push it to the streams (closing them is their owner's job)."""
        self.commit()
        for stream, what in ((self._results, self._results_name), (self._dead, "dead letters")):
            if stream is not None:
                try:
                    stream.flush()
                except OSError as exc:
                    raise output_error(exc, what) from None

    @property
    def dead_letters_written(self) -> bool:
        """Whether any dead letter was written (the dead-letter file exists)."""
        return self._dead is not None
