"""What the emulator received and kept: the evidence tests and the demo read.

Imported events are deduplicated as Mixpanel does: events that share ``event``,
``distinct_id``, ``time`` and ``$insert_id`` are one event (the latest copy is kept). Every
``$insert_id`` seen is also counted, accepted or not, so a test can tell "sent twice, kept
once" from "sent once". Profile updates are applied: ``$set`` merges into the profile.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from deliverator_mixpanel.emulator.limits import MAX_STRING_CHARS
from deliverator_mixpanel.emulator.validation import time_ms

DedupKey = tuple[str, str, int, str]


@attrs.frozen(kw_only=True)
class EmulatorStats:
    """A snapshot of the counters. ``requests`` counts every request (faulted ones too);
    ``by_status`` the answers by status; ``dropped`` connections closed unanswered;
    ``events_received`` events read from authenticated, unfaulted requests; ``events_imported``
    distinct events kept; ``duplicates`` valid events already kept; ``events_rejected`` events
    listed in ``failed_records``; ``profile_updates`` updates applied."""

    requests: int
    by_status: dict[int, int]
    dropped: int
    events_received: int
    events_imported: int
    events_rejected: int
    duplicates: int
    profile_updates: int

    def line(self) -> str:
        """One human-readable line."""
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.by_status.items()))
        return (
            f"{self.requests} requests ({statuses or 'none answered'}; {self.dropped} dropped), "
            f"{self.events_received} events received, {self.events_imported} imported, "
            f"{self.events_rejected} rejected, {self.duplicates} duplicates, {self.profile_updates} profile updates"
        )


def dedup_key(event: dict[str, Any]) -> DedupKey:
    """Mixpanel's identity of an (already validated) event."""
    properties = event["properties"]
    return (event["event"], str(properties["distinct_id"]), time_ms(properties["time"]) or 0, properties["$insert_id"])


def truncated(value: Any) -> Any:
    """``value`` with every string cut to 255 characters, as Mixpanel stores it."""
    if isinstance(value, str):
        return value[:MAX_STRING_CHARS]
    if isinstance(value, dict):
        return {key: truncated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [truncated(item) for item in value]
    return value


class Store:
    """Thread-safe record of requests, events and profiles."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything received so far."""
        with self._lock:
            self._events: dict[DedupKey, dict[str, Any]] = {}
            self._insert_ids: Counter[str] = Counter()
            self._profiles: dict[str, dict[str, Any]] = {}
            self._by_status: Counter[int] = Counter()
            self._requests = self._dropped = self._received = self._rejected = 0
            self._duplicates = self._updates = 0

    def count_request(self) -> None:
        """One more request reached the emulator."""
        with self._lock:
            self._requests += 1

    def count_answer(self, status: int | None) -> None:
        """An answer with ``status`` was sent, or (None) the connection was dropped."""
        with self._lock:
            if status is None:
                self._dropped += 1
            else:
                self._by_status[status] += 1

    def receive(self, events: Iterable[tuple[Any, bool]]) -> None:
        """Record ``(event, valid)`` pairs of one request: valid events are kept (replacing an
        identical earlier copy), invalid ones only counted."""
        with self._lock:
            for event, valid in events:
                self._received += 1
                properties = event.get("properties") if isinstance(event, dict) else None
                insert_id = properties.get("$insert_id") if isinstance(properties, dict) else None
                if isinstance(insert_id, str):
                    self._insert_ids[insert_id] += 1
                if not valid:
                    self._rejected += 1
                    continue
                key = dedup_key(event)
                if key in self._events:
                    self._duplicates += 1
                    del self._events[key]  # query-time dedup shows the most recent copy
                self._events[key] = truncated(event)

    def apply_updates(self, updates: Iterable[dict[str, Any]]) -> None:
        """Apply ``$set`` profile updates."""
        with self._lock:
            for update in updates:
                profile = self._profiles.setdefault(update["$distinct_id"], {})
                profile.update(truncated(update["$set"]))
                self._updates += 1

    def events(self) -> list[dict[str, Any]]:
        """The distinct imported events (most recent copies, in the order they were kept)."""
        with self._lock:
            return list(self._events.values())

    def insert_ids(self) -> Counter[str]:
        """How many times each ``$insert_id`` arrived, accepted or not."""
        with self._lock:
            return Counter(self._insert_ids)

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Each profile's properties by distinct id."""
        with self._lock:
            return {key: dict(value) for key, value in self._profiles.items()}

    def stats(self) -> EmulatorStats:
        """A consistent snapshot of every counter."""
        with self._lock:
            return EmulatorStats(
                requests=self._requests,
                by_status=dict(self._by_status),
                dropped=self._dropped,
                events_received=self._received,
                events_imported=len(self._events),
                events_rejected=self._rejected,
                duplicates=self._duplicates,
                profile_updates=self._updates,
            )
