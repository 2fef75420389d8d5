"""The retry schedule: events waiting for their next attempt, in the order they fall due.

Its one job is time: the coordinator pushes an item with the moment it may be sent again and
takes back whatever has fallen due. How long to wait is the retry policy's business.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator

import attrs

from deliverator.delivery.items import Item


@attrs.frozen(slots=True, order=True)
class _Entry:
    due: float
    sequence: int
    item: Item = attrs.field(order=False)


class RetrySchedule:
    """Items waiting for a retry, earliest first (ties in the order they were pushed)."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._sequence = itertools.count()

    def push(self, item: Item, due: float) -> None:
        """``item`` may be sent again from ``due`` (monotonic seconds) on."""
        heapq.heappush(self._heap, _Entry(due, next(self._sequence), item))

    def next_due(self) -> float | None:
        """When the earliest item falls due, or None when nothing waits."""
        return self._heap[0].due if self._heap else None

    def pop_due(self, now: float) -> Iterator[Item]:
        """Take every item due at ``now``."""
        heap = self._heap
        while heap and heap[0].due <= now:
            yield heapq.heappop(heap).item

    def drain(self) -> list[Item]:
        """Take every item, due or not (the run is stopping)."""
        items = [entry.item for entry in self._heap]
        self._heap.clear()
        return items

    def __len__(self) -> int:
        return len(self._heap)
