"""Grouping items into batches that respect a destination's limits.

A batch closes when it holds ``max_items``, before an item would push the request body past
``max_bytes``, or when the loop flushes it (end of input, linger time passed). A destination
with several kinds of request (``DestinationSpec.batch_key``) gets one open batch per kind, so
no batch mixes them. Thread-safe: the reader adds new items while the coordinator adds retries
and flushes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final

from deliverator._delivery.items import Item

_NOTHING: Final[tuple[list[Item], ...]] = ()


class _Open:
    """One batch being filled: its items, the body bytes they make, when it was opened."""

    __slots__ = ("bytes", "items", "opened_at")

    def __init__(self, overhead_bytes: int, now: float) -> None:
        self.items: list[Item] = []
        self.bytes = overhead_bytes
        self.opened_at = now


class Batcher:
    """Accumulates items into batches (one open batch per ``key`` of the payload)."""

    def __init__(
        self,
        max_items: int,
        max_bytes: int | None,
        overhead_bytes: int,
        key: Callable[[Mapping[str, Any]], Hashable] | None = None,
    ) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.overhead_bytes = overhead_bytes
        self._key = key
        self._lock = threading.Lock()
        self._open: dict[Hashable, _Open] = {}

    @property
    def opened_at(self) -> float | None:
        """When the oldest open batch was opened, or None when none is open."""
        with self._lock:
            return min((batch.opened_at for batch in self._open.values()), default=None)

    def add(self, item: Item, now: float) -> tuple[list[Item], ...]:
        """Add ``item``; return the batches this closed (none, one, or two)."""
        key = None if self._key is None else self._key(item.payload)
        with self._lock:
            closed = _NOTHING
            batch = self._open.get(key)
            # Every item after the first also costs one separator byte.
            limit = self.max_bytes
            if batch is not None and limit is not None and batch.bytes + 1 + len(item.encoded) > limit:
                closed = (self._take(key),)
                batch = None
            if batch is None:
                batch = self._open[key] = _Open(self.overhead_bytes + len(item.encoded), now)
            else:
                batch.bytes += 1 + len(item.encoded)
            batch.items.append(item)
            if len(batch.items) >= self.max_items:
                closed = (*closed, self._take(key))
            return closed

    def flush(self) -> list[Item] | None:
        """Close the oldest open batch, if any."""
        with self._lock:
            if not self._open:
                return None
            oldest = min(self._open, key=lambda key: self._open[key].opened_at)
            return self._take(oldest)

    def flush_all(self) -> list[list[Item]]:
        """Close every open batch (end of input, cancellation)."""
        with self._lock:
            return [self._take(key) for key in list(self._open)]

    def __len__(self) -> int:
        return sum(len(batch.items) for batch in self._open.values())

    def _take(self, key: Hashable) -> list[Item]:
        return self._open.pop(key).items
