"""Splitting the input into lines: any chunking gives the same lines, and a line over the
limit is reported by its head without being held in memory; a file source hands out the rest
of its input in blocks exactly as it would have a record at a time."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from deliverator._delivery import reader
from deliverator._delivery.filesource import LineBlock, StreamSource
from deliverator._delivery.reader import iter_lines
from deliverator._delivery.sources import SourceRecord


class Trickle(io.RawIOBase):
    """A stream that hands out its data in the given chunk sizes, like a slow pipe."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = data
        self._sizes = sizes or [len(data) or 1]
        self._turn = 0

    def read(self, size: int = -1) -> bytes:
        step = self._sizes[self._turn % len(self._sizes)]
        self._turn += 1
        chunk, self._data = self._data[:step], self._data[step:]
        return chunk


LINES = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30)


@given(lines=LINES, sizes=st.lists(st.integers(1, 64), max_size=5), trailing=st.booleans())
def test_any_chunking_gives_the_same_lines(lines: list[bytes], sizes: list[int], trailing: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing and lines else b"")
    got = list(iter_lines(Trickle(data, sizes), limit=1000))
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert got == [(line, True) for line in expected]


@given(sizes=st.lists(st.integers(1, 97), min_size=1, max_size=4), long=st.integers(11, 300))
def test_a_line_over_the_limit_is_reported_by_its_head(sizes: list[int], long: int) -> None:
    data = b"short\n" + b"x" * long + b"\nafter\n" + b"y" * long
    got = list(iter_lines(Trickle(data, sizes), limit=10))
    assert [(line[:1], fits) for line, fits in got] == [(b"s", True), (b"x", False), (b"a", True), (b"y", False)]
    assert (got[0][0], got[2][0]) == (b"short", b"after")
    for head, original in ((got[1][0], b"x" * long), (got[3][0], b"y" * long)):
        # A prefix of the line, longer than the limit, never more than the preview.
        assert original.startswith(head) and 10 < len(head) <= reader._OVERSIZE_PREVIEW


def test_a_line_exactly_at_the_limit_fits() -> None:
    assert list(iter_lines(io.BytesIO(b"0123456789\n"), limit=10)) == [(b"0123456789", True)]


# --- a file source handing out the rest of its input a chunk at a time ------------------------

SOURCE_LINES = st.lists(
    st.sampled_from([b"", b"   ", b"\t{}\r", b'{"a":1}', b"x" * 25, b"  padded  ", b"y" * 9]), max_size=40
)


def _one_by_one(parts: Iterator[LineBlock | SourceRecord]) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    for part in parts:
        if isinstance(part, SourceRecord):
            records.append(part)
        else:
            indices, lines = part
            assert len(indices) == len(lines)
            records.extend(SourceRecord(line, index, index) for index, line in zip(indices, lines, strict=True))
    return records


@given(
    lines=SOURCE_LINES,
    sizes=st.lists(st.integers(1, 64), max_size=5),
    taken=st.integers(0, 45),
    done=st.frozensets(st.integers(0, 40)),
)
def test_the_rest_in_blocks_is_what_iterating_on_would_have_handed_out(
    lines: list[bytes], sizes: list[int], taken: int, done: frozenset[int]
) -> None:
    """Whenever a stopped run switches from records to blocks (after any number of records,
    in any chunk, with records already done by an earlier run), it gets exactly the records
    iterating on would have given: none twice, none lost, same indices, same refusals."""
    data = b"\n".join(lines) + b"\n"
    expected = list(StreamSource(Trickle(data, sizes), 20, done=done))
    source = StreamSource(Trickle(data, sizes), 20, done=done)
    records = iter(source)
    first = list(itertools.islice(records, taken))
    assert first + _one_by_one(source.rest_in_blocks()) == expected
    assert source.records_read == len([line for line in lines if line.strip()])


def test_a_stopped_source_hands_out_no_more_blocks() -> None:
    source = StreamSource(io.BytesIO(b'{"a":1}\n' * 10), 100)
    records = iter(source)
    next(records)
    source.stop()
    assert list(source.rest_in_blocks()) == []
