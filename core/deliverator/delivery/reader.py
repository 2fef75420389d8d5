"""Splitting a byte stream into lines, in large chunks, with a cap on a line's length.

Used by :mod:`deliverator.delivery.filesource`; the events those lines hold are checked by
:mod:`deliverator.delivery.preparer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Final

_OVERSIZE_PREVIEW: Final = 1024

_CHUNK: Final = 1 << 20


def iter_lines(source: IO[bytes], limit: int) -> Iterator[tuple[bytes, bool]]:
    """Yield (line, fits) pairs from ``source`` read in large chunks; a line longer than
    ``limit`` bytes is skipped to its end and yielded as its first KiB with ``fits=False``, so
    one huge line cannot exhaust memory.

    Only ``read`` is used: on an unbuffered stream (stdin) it returns what has arrived, so a
    slow stream is seen line by line, and no buffered reader's lock is held by this thread
    (a daemon thread blocked inside one makes interpreter shutdown abort).
    """
    read = source.read
    pending = b""
    oversize: bytes | None = None  # the head of a line too long to keep, until its end arrives
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            if oversize is not None:
                yield oversize, False
            elif pending:
                yield (pending, True) if len(pending) <= limit else (pending[:_OVERSIZE_PREVIEW], False)
            return
        if oversize is not None:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            yield oversize, False
            oversize = None
            chunk = chunk[end + 1 :]
        lines = (pending + chunk if pending else chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if len(line) <= limit:
                yield line, True
            else:
                yield line[:_OVERSIZE_PREVIEW], False
        if len(pending) > limit:
            oversize, pending = pending[:_OVERSIZE_PREVIEW], b""
