"""The per-user and per-device events-per-second limit, on the emulator's (injectable) clock.

Amplitude throttles a user or device sending more than 30 events per second, averaged, and
answers 429 naming them; it ingests nothing of that request. Here each user id and device id
has a sliding window of ``window_s`` seconds holding the times of its ingested events; a
request is throttled for an id when that id already has events in the window and those plus
the request's events for it would exceed ``events_per_second * window_s``. (The first request
of a quiet window always passes, so one large batch for one user cannot be throttled forever.)
Throttled requests add nothing to the windows: nothing of them was ingested.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from deliverator import Clock


@attrs.frozen(kw_only=True)
class ThrottleVerdict:
    """Which ids of a request are over the limit, with their rate (events/s), and the indices
    of the request's events that belong to them."""

    users: Mapping[str, float] = attrs.field(factory=dict)
    devices: Mapping[str, float] = attrs.field(factory=dict)
    events: tuple[int, ...] = ()

    @property
    def throttled(self) -> bool:
        """Whether any id is over the limit."""
        return bool(self.users or self.devices)


class Throttle:
    """Thread-safe sliding windows per user id and per device id."""

    def __init__(self, events_per_second: int, window_s: float, clock: Clock) -> None:
        self.events_per_second = events_per_second
        self.window_s = window_s
        self._budget = events_per_second * window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def admit(self, events: Sequence[Mapping[str, Any]]) -> ThrottleVerdict:
        """Judge a request's (valid) events; when none is throttled, count them as ingested now."""
        users = Counter(_ids(events, "user_id"))
        devices = Counter(_ids(events, "device_id"))
        with self._lock:
            now = self._clock.monotonic()
            over_users = self._over("user_id", users, now)
            over_devices = self._over("device_id", devices, now)
            if not over_users and not over_devices:
                for field, counts in (("user_id", users), ("device_id", devices)):
                    for value, count in counts.items():
                        self._seen.setdefault((field, value), deque()).extend([now] * count)
                return ThrottleVerdict()
        indices = tuple(
            index
            for index, event in enumerate(events)
            if event.get("user_id") in over_users or event.get("device_id") in over_devices
        )
        return ThrottleVerdict(users=over_users, devices=over_devices, events=indices)

    def _over(self, field: str, counts: Mapping[str, int], now: float) -> dict[str, float]:
        over: dict[str, float] = {}
        for value, count in counts.items():
            recent = self._recent((field, value), now)
            if recent and recent + count > self._budget:
                over[value] = round((recent + count) / self.window_s, 3)
        return over

    def _recent(self, key: tuple[str, str], now: float) -> int:
        times = self._seen.get(key)
        if times is None:
            return 0
        horizon = now - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._seen[key]
            return 0
        return len(times)


def _ids(events: Iterable[Mapping[str, Any]], field: str) -> Iterable[str]:
    for event in events:
        value = event.get(field)
        if isinstance(value, str):
            yield value
