"""Splitting the input into lines: any chunking gives the same lines, and a line over the
limit is reported by its head without being held in memory."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from deliverator._delivery import reader
from deliverator._delivery.reader import iter_lines


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
    got = list(iter_lines(Trickle(data, sizes), limit=1000))  # type: ignore[arg-type]  # a raw stream is an IO[bytes]
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert got == [(line, True) for line in expected]


@given(sizes=st.lists(st.integers(1, 97), min_size=1, max_size=4), long=st.integers(11, 300))
def test_a_line_over_the_limit_is_reported_by_its_head(sizes: list[int], long: int) -> None:
    data = b"short\n" + b"x" * long + b"\nafter\n" + b"y" * long
    got = list(iter_lines(Trickle(data, sizes), limit=10))  # type: ignore[arg-type]  # a raw stream is an IO[bytes]
    assert [(line[:1], fits) for line, fits in got] == [(b"s", True), (b"x", False), (b"a", True), (b"y", False)]
    assert (got[0][0], got[2][0]) == (b"short", b"after")
    for head, original in ((got[1][0], b"x" * long), (got[3][0], b"y" * long)):
        # A prefix of the line, longer than the limit, never more than the preview.
        assert original.startswith(head) and 10 < len(head) <= reader._OVERSIZE_PREVIEW


def test_a_line_exactly_at_the_limit_fits() -> None:
    assert list(iter_lines(io.BytesIO(b"0123456789\n"), limit=10)) == [(b"0123456789", True)]
