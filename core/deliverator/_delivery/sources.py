"""The two ends of the delivery loop: where records come from, and where their outcomes go.

The loop reads :class:`SourceRecord` values from a :class:`Source` and hands each final outcome
to an :class:`OutcomeSink`. A sink's :meth:`~OutcomeSink.commit` records outcomes durably and
only then acknowledges their records to the source (end-to-end acknowledgement, as Vector and
Redpanda Connect do it). Stopping a run *releases* the records that have no outcome yet: a
resumable source (a journaled file, a queue) hands them out again next time; a source that
cannot be read twice (standard input) gets them recorded as 499 ``CANCELLED`` instead.

Implementations: :mod:`deliverator._delivery.filesource` (files and stdin),
:mod:`deliverator._delivery.sinks` and :mod:`deliverator._delivery.journal` (outcome files), and
the queue mode's Redis Streams source and sink.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol


class SourceRecord(NamedTuple):
    """One input record as a source hands it out.

    A named tuple rather than an attrs class: a run makes one per input record, and a tuple is
    built in a third of the time of a frozen attrs instance (about 0.3 against 0.8 µs here),
    which is noticeable on the hot path and when a stopped run refuses millions of records.
    """

    raw: bytes
    """The record: a line without its newline (a queue entry's raw line)."""
    index: int | None  # type: ignore[assignment]  # the field hides tuple.index, never used here
    """0-based position in a file, blank lines skipped; None for a queue entry."""
    token: object
    """What the source needs to acknowledge the record (file: its index; queue: its entry id)."""
    entry_id: str | None = None
    """Queue entries: the stream id, written as ``entry_id`` in outcome records."""
    refused: tuple[int, str, str] | None = None
    """(status, errortype, message): fail this record without sending it (a line too long to
    keep, a poison message delivered too many times)."""


class Source(Protocol):
    """Where a run's records come from."""

    resumable: bool
    """False for stdin: on stop, unfinished events are recorded 499 CANCELLED."""
    total: int | None
    """Records expected, when known (progress)."""

    def __iter__(self) -> Iterator[SourceRecord]:
        """Records in order; blocking; ends at the end of input or soon after :meth:`stop`."""
        ...

    def stop(self) -> None:
        """Called from another thread: iteration ends soon (unblocks a blocked read)."""
        ...


class OutcomeSink(Protocol):
    """Where outcome records go; committing acknowledges their records to the source."""

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """Buffer one record's outcome line (and its dead-letter line when it failed)."""
        ...

    def commit(self) -> None:
        """Durably record what was added since the last commit, then acknowledge those records
        to their source; raises :class:`OutputError` when it cannot write."""
        ...

    def close(self, finished: bool) -> None:
        """End of the run; ``finished``: every record read has an outcome."""
        ...


class OutputError(Exception):
    """Outcomes cannot be recorded (disk full, I/O error, a closed pipe): the run must stop
    sending at once, since whatever it delivers next could not be recorded."""

    def __init__(self, message: str, *, broken_pipe: bool = False) -> None:
        super().__init__(message)
        self.broken_pipe = broken_pipe
        """The reader of standard output went away: exit quietly, like other Unix tools."""
