"""Request pacing shared by every sender of a run: an optional token bucket (a sustained rate
with a burst), and an adaptive slow-down when the destination says it is rate limiting us.

The unthrottled path (no configured rate, no rate limiting seen) is one attribute read and a
counter bump, no lock and no clock: a run of 200k events pays nothing for it.
"""

from __future__ import annotations

import math
import threading

from deliverator._clock import Clock

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


def default_burst(rate: float) -> int:
    """The burst a configured rate allows when none is given: one second's worth of requests
    (at least one), the usual reading of "N requests per second"."""
    return max(1, math.floor(rate))


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; a request takes one.

    :meth:`reserve` never refuses: it takes the token now, possibly going into debt, and says
    how long the caller must wait for it. Waiting outside the lock keeps many senders fair
    (each one's place is fixed when it asks) and the long-run rate exact. Not thread-safe on
    its own: the pacer holds its lock around every call.
    """

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if not rate > 0 or not capacity >= 1:
            raise ValueError(f"a token bucket needs rate > 0 and capacity >= 1, got {rate!r}, {capacity!r}")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
            self._updated = now

    def reserve(self, now: float) -> float:
        """Take one token; return the seconds until it is really there (0 if it was)."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def change(self, now: float, rate: float, capacity: float, *, drain: bool = False) -> None:
        """Go on at a new rate and capacity (tokens earned so far at the old rate are kept,
        up to the new capacity). ``drain`` spends what was saved: the next request waits."""
        self._refill(now)
        self.rate, self.capacity = rate, capacity
        self.tokens = min(self.tokens, capacity, 0.0) if drain else min(self.tokens, capacity)


class RequestPacer:
    """Decides when each request may go.

    With ``max_requests_per_second`` the requests of all senders share one token bucket:
    that rate sustained, and up to ``burst`` requests at once after a quiet spell (default:
    one second's worth). After a RATE_LIMITED answer every sender slows down (the rate is
    halved, starting from the rate observed so far when none was set, and the saved-up burst
    is spent) and each success climbs back additively, without bursts; once the rate is back
    where it was, pacing returns to the configured bucket, or to none.
    """

    def __init__(self, clock: Clock, max_requests_per_second: float | None = None,
                 burst: float | None = None, *, slow_down: bool = True) -> None:
        if max_requests_per_second is not None and not max_requests_per_second > 0:
            raise ValueError(f"max_requests_per_second must be > 0, got {max_requests_per_second!r}")
        if burst is not None and not burst >= 1:
            raise ValueError(f"burst must be at least 1 request, got {burst!r}")
        self._clock = clock
        self._slow_down = slow_down
        self._lock = threading.Lock()
        self._ceiling = max_requests_per_second
        self._burst = (burst if burst is not None else default_burst(max_requests_per_second)
                       if max_requests_per_second is not None else 1.0)
        self._rate: float | None = max_requests_per_second
        now = clock.monotonic()
        self._bucket: TokenBucket | None = (
            None if max_requests_per_second is None else TokenBucket(max_requests_per_second, self._burst, now)
        )
        self._adapting = False
        self._recover_to = 0.0
        self._step = 0.0
        self._last_decrease: float | None = None
        self._window_start = now
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
    def burst(self) -> float:
        """Requests the configured bucket lets through at once after a quiet spell."""
        return self._burst

    @property
    def current_rate(self) -> float | None:
        """Requests per second now allowed, or None for no limit."""
        return self._rate

    def acquire(self) -> None:
        """Block (on the clock) until this request may go."""
        if self._bucket is None:
            self.acquired_count += 1
            self._window_requests += 1
            return
        with self._lock:
            bucket = self._bucket
            if bucket is None:  # back to unthrottled while this sender waited for the lock
                self.acquired_count += 1
                return
            wait = bucket.reserve(self._clock.monotonic())
            self.acquired_count += 1
            self._window_requests += 1
            self.waited_seconds += wait
        if wait > 0:
            self._clock.sleep(wait)

    def on_rate_limited(self) -> None:
        """A RATE_LIMITED answer: slow every sender down (unless ``slow_down`` is off: with
        adaptive concurrency the limiter answers rate limiting, and two controls reacting to
        the same 429 would slow the run down twice)."""
        with self._lock:
            self.rate_limited_count += 1
            if not self._slow_down:
                return
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
            # The slow-down takes effect at once: no burst, the next request waits its turn.
            self._set_rate(reduced, now, drain=True)

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
                self._set_rate(self._ceiling, now)
            else:
                self._set_rate(raised, now)

    def _observed_rate(self, now: float) -> float:
        elapsed = max(now - self._window_start, _MIN_WINDOW_S)
        return max(self._window_requests / elapsed, MIN_RATE)

    def _set_rate(self, rate: float | None, now: float, *, drain: bool = False) -> None:
        """The new rate: the configured bucket (and burst) at the ceiling, a one-request bucket
        while adapting, none when unthrottled."""
        self._rate = rate
        if rate is None:
            self._bucket = None
            return
        capacity = self._burst if not self._adapting and rate == self._ceiling else 1.0
        if self._bucket is None:
            self._bucket = TokenBucket(rate, capacity, now)
            if drain:
                self._bucket.change(now, rate, capacity, drain=True)
        else:
            self._bucket.change(now, rate, capacity, drain=drain)
