"""What the emulator received and kept: the evidence tests and the demo read.

Accepted items are deduplicated the way Customer.io deduplicates: a person ``event``, ``page``
or ``screen`` by its ``id``; every other item by a stable hash of its content (so a re-sent
identical identify is kept once too). Every ``id`` seen is also counted in a multiset, so a
test can tell "sent twice, kept once" from "sent once".
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

import attrs
import orjson

DEDUP_BY_ID_ACTIONS: Final = frozenset({"event", "page", "screen"})


@attrs.frozen(kw_only=True)
class EmulatorStats:
    """A snapshot of the emulator's counters.

    ``requests`` counts every request that reached the API (including faulted ones);
    ``by_status`` counts the answers sent by status; ``dropped`` the connections closed without
    an answer. ``items_received`` counts items read from authenticated, unfaulted requests;
    ``items_accepted`` the distinct items kept; ``duplicates`` valid items already kept;
    ``items_rejected`` the items answered with errors.
    """

    requests: int
    by_status: dict[int, int]
    dropped: int
    items_received: int
    items_accepted: int
    items_rejected: int
    duplicates: int

    def line(self) -> str:
        """One human-readable line."""
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.by_status.items()))
        return (
            f"{self.requests} requests ({statuses or 'none answered'}; {self.dropped} dropped), "
            f"{self.items_received} items received, {self.items_accepted} accepted, "
            f"{self.items_rejected} rejected, {self.duplicates} duplicates"
        )


def dedup_key(item: Any) -> str:
    """The key an accepted item is kept under: ``id:<ulid>`` for events, page and screen views
    that carry an id, else ``sha:<hash of the canonical JSON>``."""
    if isinstance(item, dict) and item.get("action") in DEDUP_BY_ID_ACTIONS and item.get("type") == "person":
        event_id = item.get("id")
        if isinstance(event_id, str) and event_id:
            return "id:" + event_id.upper()
    canonical = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    return "sha:" + hashlib.blake2b(canonical, digest_size=16).hexdigest()


class Store:
    """Thread-safe record of requests and items."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything received so far."""
        with self._lock:
            self._items: dict[str, Any] = {}
            self._ids: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._requests = 0
            self._dropped = 0
            self._received = 0
            self._rejected = 0
            self._duplicates = 0
            self._counted_only = 0

    def count_request(self) -> None:
        """One more request reached the API."""
        with self._lock:
            self._requests += 1

    def count_answer(self, status: int | None) -> None:
        """An answer with ``status`` was sent, or (None) the connection was dropped."""
        with self._lock:
            if status is None:
                self._dropped += 1
            else:
                self._by_status[status] += 1

    def receive(self, items: Iterable[tuple[Any, bool]]) -> None:
        """Record ``(item, valid)`` pairs of one request: valid items are kept unless already
        kept, invalid ones only counted; every string ``id`` is counted either way."""
        with self._lock:
            for item, valid in items:
                self._received += 1
                event_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(event_id, str):
                    self._ids[event_id] += 1
                if not valid:
                    self._rejected += 1
                    continue
                key = dedup_key(item)
                if key in self._items:
                    self._duplicates += 1
                else:
                    self._items[key] = item

    def count_items(self, count: int) -> None:
        """Fast mode: ``count`` items accepted, kept only as a number."""
        with self._lock:
            self._received += count
            self._counted_only += count

    def accepted(self) -> list[Any]:
        """The distinct accepted items, in the order they first arrived."""
        with self._lock:
            return list(self._items.values())

    def accepted_count(self) -> int:
        """Distinct accepted items (fast mode: every item received, undeduplicated)."""
        with self._lock:
            return len(self._items) + self._counted_only

    def received_ids(self) -> Counter[str]:
        """How many times each ``id`` arrived, accepted or not."""
        with self._lock:
            return Counter(self._ids)

    def stats(self) -> EmulatorStats:
        """A consistent snapshot of every counter."""
        with self._lock:
            return EmulatorStats(
                requests=self._requests,
                by_status=dict(self._by_status),
                dropped=self._dropped,
                items_received=self._received,
                items_accepted=len(self._items) + self._counted_only,
                items_rejected=self._rejected,
                duplicates=self._duplicates,
            )
