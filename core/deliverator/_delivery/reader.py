"""Splitting a byte stream into lines, in large chunks, with a cap on a line's length.

Used by :mod:`deliverator._delivery.filesource` (which takes the lines a chunk at a time) and
the queue's ``enqueue`` (a line at a time); the events those lines hold are checked by
:mod:`deliverator._delivery.preparer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

_OVERSIZE_PREVIEW: Final = 1024

_CHUNK: Final = 1 << 20


class Readable(Protocol):
    """What lines are read from: anything with a binary ``read`` (a file, standard input, a
    source that counts what it reads)."""

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes; empty at the end."""
        ...


def iter_line_blocks(source: Readable, limit: int) -> Iterator[tuple[list[bytes], bool]]:
    """Yield the lines of ``source`` read in large chunks, as (lines, fit) pairs: the lines that
    end in one chunk (``fit=True``), or one line longer than ``limit`` bytes as its first KiB
    (``fit=False``), skipped to its end so that one huge line cannot exhaust memory.

    A block per chunk, not a line at a time, so that a caller with work to do for every line
    (refusing the rest of a stopped run) does it in a loop of its own.

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
                yield [oversize], False
            elif pending:
                yield ([pending], True) if len(pending) <= limit else ([pending[:_OVERSIZE_PREVIEW]], False)
            return
        if oversize is not None:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            yield [oversize], False
            oversize = None
            chunk = chunk[end + 1 :]
        lines = (pending + chunk if pending else chunk).split(b"\n")
        pending = lines.pop()
        if lines and max(map(len, lines)) > limit:
            yield from _split_at_oversize(lines, limit)
        elif lines:
            yield lines, True
        if len(pending) > limit:
            oversize, pending = pending[:_OVERSIZE_PREVIEW], b""


def _split_at_oversize(lines: list[bytes], limit: int) -> Iterator[tuple[list[bytes], bool]]:
    """The blocks of one chunk that holds a line longer than ``limit`` (rare)."""
    run: list[bytes] = []
    for line in lines:
        if len(line) <= limit:
            run.append(line)
            continue
        if run:
            yield run, True
            run = []
        yield [line[:_OVERSIZE_PREVIEW]], False
    if run:
        yield run, True


def iter_lines(source: Readable, limit: int) -> Iterator[tuple[bytes, bool]]:
    """:func:`iter_line_blocks` a line at a time: (line, fits) pairs."""
    for lines, fits in iter_line_blocks(source, limit):
        for line in lines:
            yield line, fits
