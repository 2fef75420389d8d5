"""What a file run's sink holds between two commits: outcome lines and their records' indices.

The journaled sink (:mod:`.journal`) and a delivery process's sink (:mod:`.shard_process`)
buffer the same way and differ only in what a commit does with the burst.
"""

from __future__ import annotations

from deliverator._delivery.sources import SourceRecord


class PendingOutcomes:
    """Outcome lines (and dead letters) added since the last commit, with the indices of their
    records (file records always have one)."""

    def __init__(self) -> None:
        self._indices: list[int] = []
        self._lines: list[bytes] = []
        self._dead_lines: list[bytes] = []

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """Buffer one record's outcome."""
        assert record.index is not None, "a file record without an index"
        self._indices.append(record.index)
        self._lines.append(outcome)
        if dead_letter is not None:
            self._dead_lines.append(dead_letter)

    def add_all(self, outcomes: list[tuple[SourceRecord, bytes, bytes | None]]) -> None:
        """:meth:`add` for a whole burst (the committer's fast path)."""
        self._indices.extend([record.index for record, _, _ in outcomes])  # type: ignore[misc]  # file records
        self._lines.extend([outcome for _, outcome, _ in outcomes])
        self._dead_lines.extend([dead for _, _, dead in outcomes if dead is not None])

    def add_block(self, indices: list[int], results: bytes, dead_letters: bytes) -> None:
        """Outcome lines already joined, for the records at ``indices`` (what a delivery process
        of a run over several processes hands over: see :mod:`deliverator._delivery.shards`)."""
        self._indices.extend(indices)
        self._lines.append(results)
        if dead_letters:
            self._dead_lines.append(dead_letters)

    def take(self) -> tuple[list[int], list[bytes], list[bytes]]:
        """Everything added since the last take: (indices, outcome lines, dead letters)."""
        taken = self._indices, self._lines, self._dead_lines
        self._indices, self._lines, self._dead_lines = [], [], []
        return taken
