"""Request pacing shared by every sender of a run: an optional fixed rate, and an adaptive
slow-down when the destination says it is rate limiting us.

The unthrottled path (no configured rate, no rate limiting seen) is one attribute read and a
counter bump, no lock and no clock: a run of 200k events pays nothing for it.
"""

from __future__ import annotations

import threading

from deliverator.clock import Clock

DECREASE_FACTOR = 0.5
"""On a rate-limited answer the rate is multiplied by this (the "multiplicative decrease")."""

RECOVERY_STEPS = 20
"""Successes needed to climb back from a halved rate to the rate before the slow-down."""

MIN_RATE = 0.5
"""The slowest pace (requests per second) the adaptive slow-down goes to."""

DECREASE_COOLDOWN_S = 1.0
"""Rate-limited answers within this long after a decrease do not decrease again: requests
that were already in flight would otherwise halve the rate once each."""

_MIN_WINDOW_S = 1.0


class RequestPacer:
    """Decides when each request may go.

    With ``max_requests_per_second`` the requests of all senders are spaced to that rate.
    After a RATE_LIMITED answer every sender slows down (the rate is halved, starting from the
    rate observed so far when none was set) and each success climbs back additively; once the
    rate is back where it was, pacing returns to the configured rate, or to none.
    """

    def __init__(self, clock: Clock, max_requests_per_second: float | None = None) -> None:
        if max_requests_per_second is not None and not max_requests_per_second > 0:
            raise ValueError(f"max_requests_per_second must be > 0, got {max_requests_per_second!r}")
        self._clock = clock
        self._lock = threading.Lock()
        self._ceiling = max_requests_per_second
        self._rate: float | None = max_requests_per_second
        self._interval = 0.0 if max_requests_per_second is None else 1.0 / max_requests_per_second
        self._next_slot = clock.monotonic()
        self._adapting = False
        self._recover_to = 0.0
        self._step = 0.0
        self._last_decrease: float | None = None
        self._window_start = clock.monotonic()
        self._window_requests = 0
        self.acquired_count = 0
        """Requests let through (approximate when unthrottled: counted without a lock)."""
        self.rate_limited_count = 0
        """Rate-limited answers reported."""
        self.slowdown_count = 0
        """Times the rate was lowered."""
        self.waited_seconds = 0.0
        """Total time senders spent waiting for their turn."""

    @property
    def current_rate(self) -> float | None:
        """Requests per second now allowed, or None for no limit."""
        return self._rate

    def acquire(self) -> None:
        """Block (on the clock) until this request may go."""
        if self._interval == 0.0:
            self.acquired_count += 1
            self._window_requests += 1
            return
        with self._lock:
            now = self._clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
            self.acquired_count += 1
            self._window_requests += 1
            wait = slot - now
            self.waited_seconds += wait
        if wait > 0:
            self._clock.sleep(wait)

    def on_rate_limited(self) -> None:
        """A RATE_LIMITED answer: slow every sender down."""
        with self._lock:
            self.rate_limited_count += 1
            now = self._clock.monotonic()
            if self._last_decrease is not None and now - self._last_decrease < DECREASE_COOLDOWN_S:
                return
            current = self._rate if self._rate is not None else self._observed_rate(now)
            if not self._adapting:
                self._recover_to = current
            reduced = max(MIN_RATE, current * DECREASE_FACTOR)
            self._step = max(self._recover_to - reduced, 0.0) / RECOVERY_STEPS
            self._adapting = True
            self._last_decrease = now
            self.slowdown_count += 1
            self._set_rate(reduced)
            # The slow-down takes effect at once: the next request waits one new interval.
            self._next_slot = max(self._next_slot, now + self._interval)

    def on_success(self) -> None:
        """A successful answer: climb back toward full speed."""
        if not self._adapting:
            return
        with self._lock:
            if not self._adapting or self._rate is None:
                return
            raised = self._rate + self._step
            now = self._clock.monotonic()
            if raised >= self._recover_to or self._step <= 0:
                self._adapting = False
                self._last_decrease = None
                self._window_start, self._window_requests = now, 0
                self._set_rate(self._ceiling)
            else:
                self._set_rate(raised)

    def _observed_rate(self, now: float) -> float:
        elapsed = max(now - self._window_start, _MIN_WINDOW_S)
        return max(self._window_requests / elapsed, MIN_RATE)

    def _set_rate(self, rate: float | None) -> None:
        self._rate = rate
        self._interval = 0.0 if rate is None else 1.0 / rate
