"""Records from a byte stream of JSON lines: a file (resumable through its journal) or
standard input (read once).

A record's index is its position among the non-blank lines, so it is the same in every run
over the same file; records that already have an outcome (``done``, from the journal) are
skipped without being decoded. A line longer than ``max_line_bytes`` is handed out refused
(413) by its first KiB, so one huge line cannot exhaust memory.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from typing import IO, Final

from deliverator.delivery.reader import iter_lines
from deliverator.delivery.sources import SourceRecord
from deliverator.errorcodes import ErrorCode

_NOTHING_DONE: Final[frozenset[int]] = frozenset()


class StreamSource:
    """A :class:`~deliverator.delivery.sources.Source` over a binary stream of JSON lines."""

    def __init__(
        self,
        stream: IO[bytes],
        max_line_bytes: int,
        *,
        resumable: bool = False,
        done: Container[int] = _NOTHING_DONE,
        total: int | None = None,
    ) -> None:
        self._stream = stream
        self._max_line_bytes = max_line_bytes
        self._done = done
        self._stopped = False
        self.resumable = resumable
        self.total = total
        self.bytes_read = 0
        """Bytes read from the stream so far (progress; counted by chunk, not by record)."""
        self.waiting_for_input = False
        """True while a read of the stream is under way (a quiet pipe blocks there)."""

    def stop(self) -> None:
        """Iteration ends at the next line. (A read blocked on a quiet pipe cannot be woken; the
        loop does not wait for it: see the coordinator's grace rules.)"""
        self._stopped = True

    def __iter__(self) -> Iterator[SourceRecord]:
        index = 0
        done = self._done
        skip = bool(done) if isinstance(done, frozenset | set) else True
        limit = self._max_line_bytes
        for line, fits in iter_lines(self, limit):  # type: ignore[arg-type]  # only read() is used
            if self._stopped:
                return
            if fits:
                line = line.strip()
                if not line:
                    continue
            current = index
            index += 1
            if skip and current in done:
                continue
            if fits:
                yield SourceRecord(line, current, current)
            else:
                yield SourceRecord(
                    line,
                    current,
                    current,
                    refused=(
                        413,
                        ErrorCode.PAYLOAD_TOO_LARGE.value,
                        f"input line is longer than {limit} bytes (max_line_bytes)",
                    ),
                )


    def read(self, size: int) -> bytes:
        """The stream's ``read``, noting while it is under way (what ``iter_lines`` calls)."""
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
