"""Records from a byte stream of JSON lines: a file (resumable through its journal) or
standard input (read once).

A record's index is its position among the non-blank lines, so it is the same in every run
over the same file; records that already have an outcome (``done``, from the journal) are
skipped without being decoded. A line longer than ``max_line_bytes`` is handed out refused
(413) by its first KiB, so one huge line cannot exhaust memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Iterator, Sequence
from typing import IO, Final

from deliverator._delivery.reader import Readable, iter_line_blocks
from deliverator._delivery.sources import SourceRecord
from deliverator._errorcodes import ErrorCode

_NOTHING_DONE: Final[frozenset[int]] = frozenset()

LineBlock = tuple[Sequence[int], list[bytes]]
"""Lines of a chunk that fit (stripped, none blank) and their records' indices."""


class StreamSource:
    """A :class:`~deliverator._delivery.sources.Source` over a binary stream of JSON lines."""

    def __init__(
        self,
        stream: Readable,
        max_line_bytes: int,
        *,
        resumable: bool = False,
        done: Container[int] = _NOTHING_DONE,
        total: int | None = None,
    ) -> None:
        self._stream = stream
        self._max_line_bytes = max_line_bytes
        self._done = done
        self._skips = bool(done) if isinstance(done, frozenset | set) else True
        """Whether any record may be done already (an empty set says none is: no test per line)."""
        self._stopped = False
        self.resumable = resumable
        self.total = total
        self.bytes_read = 0
        """Bytes read from the stream so far (progress; counted by chunk, not by record)."""
        self.records_read = 0
        """Records met so far, those already done by an earlier run included (progress)."""
        self.waiting_for_input = False
        """True while a read of the stream is under way (a quiet pipe blocks there)."""
        self._rest: Iterator[tuple[int, list[bytes], bool]] | None = None
        """The chunks :meth:`__iter__` reads, for :meth:`rest_in_blocks` to go on with."""
        self._current: tuple[int, list[bytes], bool] | None = None
        """The chunk :meth:`__iter__` is handing out."""

    def stop(self) -> None:
        """Iteration ends at the next line. (A read blocked on a quiet pipe cannot be woken; the
        loop does not wait for it: see the coordinator's grace rules.)"""
        self._stopped = True

    def __iter__(self) -> Iterator[SourceRecord]:
        done, skip = self._done, self._skips
        blocks = self._blocks()
        self._rest = blocks
        for first, lines, fits in blocks:
            self._current = (first, lines, fits)
            for index, line in enumerate(lines, first):
                if self._stopped:
                    return
                self.records_read = index + 1
                if skip and index in done:
                    continue
                yield SourceRecord(line, index, index) if fits else self._too_long(line, index)

    def rest_in_blocks(self) -> Iterator[LineBlock | SourceRecord]:
        """The records :meth:`__iter__` has not handed out yet, a chunk of lines at a time:
        ``(indices, lines)`` for lines that fit, a :class:`SourceRecord` for a line too long.

        For a stopped run that refuses the rest of its input (it checks each of millions of
        lines in a loop of its own instead of taking a record at a time); iterating the
        source record by record ends here. Ends early, like :meth:`__iter__`, once stopped.
        """
        done, skip = self._done, self._skips
        current, self._current = self._current, None
        start = self.records_read
        blocks = self._blocks() if self._rest is None else self._rest  # None: nothing handed out yet
        if current is not None and start - current[0] < len(current[1]):
            first, lines, fits = current
            blocks = itertools.chain([(start, lines[start - first :], fits)], blocks)
        for first, lines, fits in blocks:
            if self._stopped:
                return
            self.records_read = first + len(lines)
            if not fits:
                if not (skip and first in done):
                    yield self._too_long(lines[0], first)
                continue
            if skip:
                kept = [(index, line) for index, line in enumerate(lines, first) if index not in done]
                if kept:
                    yield [index for index, _ in kept], [line for _, line in kept]
            else:
                yield range(first, first + len(lines)), lines

    def _blocks(self) -> Iterator[tuple[int, list[bytes], bool]]:
        """(index of the first, lines, fit): the non-blank lines of a chunk, stripped, or one
        line too long to keep (by its head); indices count the non-blank lines."""
        first = 0
        for lines, fits in iter_line_blocks(self, self._max_line_bytes):
            if fits:
                lines = [line for line in map(bytes.strip, lines) if line]
                if not lines:
                    continue
            yield first, lines, fits
            first += len(lines)

    def _too_long(self, head: bytes, index: int) -> SourceRecord:
        return SourceRecord(
            head,
            index,
            index,
            refused=(
                413,
                ErrorCode.PAYLOAD_TOO_LARGE.value,
                f"input line is longer than {self._max_line_bytes} bytes (max_line_bytes)",
            ),
        )

    def read(self, size: int) -> bytes:
        """The stream's ``read``, noting while it is under way (what ``iter_line_blocks`` calls)."""
        self.waiting_for_input = True
        try:
            chunk = self._stream.read(size)
        finally:
            self.waiting_for_input = False
        self.bytes_read += len(chunk)
        return chunk


def count_records(stream: IO[bytes]) -> int:
    """Non-blank lines in ``stream`` (what a resumed run's message reports as N)."""
    count = 0
    pending = b""
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        count += sum(1 for line in lines if line.strip())
    return count + (1 if pending.strip() else 0)
