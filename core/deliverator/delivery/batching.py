"""Grouping items into batches that respect a destination's limits.

A batch closes when it holds ``max_items``, before an item would push the request body past
``max_bytes``, or when the loop flushes it (end of input, linger time passed). Thread-safe: the
reader adds new items while the coordinator adds retries and flushes.
"""

from __future__ import annotations

import threading
from typing import Final

from deliverator.delivery.items import Item

_NOTHING: Final[tuple[list[Item], ...]] = ()


class Batcher:
    """Accumulates items into batches."""

    def __init__(self, max_items: int, max_bytes: int | None, overhead_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.overhead_bytes = overhead_bytes
        self._lock = threading.Lock()
        self._items: list[Item] = []
        self._bytes = overhead_bytes
        self.opened_at: float | None = None

    def add(self, item: Item, now: float) -> tuple[list[Item], ...]:
        """Add ``item``; return the batches this closed (none, one, or two)."""
        with self._lock:
            closed = _NOTHING
            items = self._items
            # Every item after the first also costs one separator byte.
            if items and self.max_bytes is not None and self._bytes + 1 + len(item.encoded) > self.max_bytes:
                closed = (self._take(),)
                items = self._items
            if items:
                self._bytes += 1 + len(item.encoded)
            else:
                self.opened_at = now
                self._bytes = self.overhead_bytes + len(item.encoded)
            items.append(item)
            if len(items) >= self.max_items:
                closed = (*closed, self._take())
            return closed

    def flush(self) -> list[Item] | None:
        """Close whatever is open."""
        with self._lock:
            return self._take() if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    def _take(self) -> list[Item]:
        batch = self._items
        self._items = []
        self._bytes = self.overhead_bytes
        self.opened_at = None
        return batch
