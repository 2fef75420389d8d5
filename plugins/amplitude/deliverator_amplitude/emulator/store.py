"""What the emulator received and kept: the evidence tests and the demo read.

Accepted events are deduplicated the way the HTTP V2 API documents: a later event with the
same ``insert_id`` and the same ``device_id`` (or none) within 7 days is ignored. Events
without an ``insert_id`` are all kept. Each kept event is stored with the time it arrived on
the emulator's clock, and every ``insert_id`` seen is counted in a multiset, so a test can
tell "sent twice, kept once" from "sent once".
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from deliverator_amplitude.emulator.limits import DEDUP_WINDOW_S


@attrs.frozen(kw_only=True)
class Arrival:
    """One kept event and when (emulator clock, ``monotonic``) it was ingested."""

    event: Mapping[str, Any]
    at: float


@attrs.frozen(kw_only=True)
class EmulatorStats:
    """A snapshot of the emulator's counters.

    ``requests`` counts every request that reached the API; ``by_status`` the answers sent by
    status. ``events_received`` counts events in requests that got as far as event checks;
    ``events_kept`` the distinct events kept; ``duplicates`` ingested events dropped by
    deduplication; ``events_refused`` events named in a 400; ``events_throttled`` events of
    throttled ids in a 429.
    """

    requests: int
    by_status: dict[int, int]
    events_received: int
    events_kept: int
    duplicates: int
    events_refused: int
    events_throttled: int

    def line(self) -> str:
        """One human-readable line."""
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.by_status.items()))
        return (
            f"{self.requests} requests ({statuses or 'none answered'}), {self.events_received} events received, "
            f"{self.events_kept} kept, {self.duplicates} duplicates, {self.events_refused} refused, "
            f"{self.events_throttled} throttled"
        )


class Store:
    """Thread-safe record of requests and events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything received so far."""
        with self._lock:
            self._kept: dict[tuple[str, str | None] | int, Arrival] = {}
            self._unkeyed = itertools.count()
            self._insert_ids: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._requests = self._received = self._duplicates = self._refused = self._throttled = 0

    def count_request(self) -> None:
        """One more request reached the API."""
        with self._lock:
            self._requests += 1

    def count_answer(self, status: int) -> None:
        """An answer with ``status`` was sent."""
        with self._lock:
            self._by_status[status] += 1

    def receive(self, events: Iterable[Mapping[str, Any]], refused: int = 0, throttled: int = 0) -> None:
        """Count the events of a request that reached the event checks (whatever its answer),
        ``refused`` of them named in a 400 and ``throttled`` of them in a 429."""
        with self._lock:
            for event in events:
                self._received += 1
                value = event.get("insert_id")
                if isinstance(value, str):
                    self._insert_ids[value] += 1
            self._refused += refused
            self._throttled += throttled

    def ingest(self, events: Iterable[Mapping[str, Any]], now: float) -> None:
        """Keep the events of an accepted request, unless already kept (same insert_id and
        device_id within 7 days)."""
        with self._lock:
            for event in events:
                key = _dedup_key(event, self._unkeyed)
                earlier = self._kept.get(key)
                if earlier is not None and now - earlier.at < DEDUP_WINDOW_S:
                    self._duplicates += 1
                else:
                    self._kept[key] = Arrival(event=event, at=now)

    def arrivals(self) -> list[Arrival]:
        """The kept events with their arrival times, in the order they first arrived."""
        with self._lock:
            return sorted(self._kept.values(), key=lambda arrival: arrival.at)

    def kept(self) -> list[Mapping[str, Any]]:
        """The distinct kept events, in the order they first arrived."""
        return [arrival.event for arrival in self.arrivals()]

    def kept_count(self) -> int:
        """How many distinct events are kept."""
        with self._lock:
            return len(self._kept)

    def received_insert_ids(self) -> Counter[str]:
        """How many times each ``insert_id`` arrived, whatever the answer."""
        with self._lock:
            return Counter(self._insert_ids)

    def stats(self) -> EmulatorStats:
        """A consistent snapshot of every counter."""
        with self._lock:
            return EmulatorStats(
                requests=self._requests,
                by_status=dict(self._by_status),
                events_received=self._received,
                events_kept=len(self._kept),
                duplicates=self._duplicates,
                events_refused=self._refused,
                events_throttled=self._throttled,
            )


def _dedup_key(event: Mapping[str, Any], unkeyed: itertools.count[int]) -> tuple[str, str | None] | int:
    insert_id = event.get("insert_id")
    if not isinstance(insert_id, str) or not insert_id:
        return next(unkeyed)
    device_id = event.get("device_id")
    return insert_id, device_id if isinstance(device_id, str) else None
