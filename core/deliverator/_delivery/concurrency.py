"""How many requests may be in flight at once: a fixed number, or a limit that adapts to the
destination (``[delivery] concurrency = "adaptive"``).

Every sender takes a permit before it takes a batch, has it stamped when its request starts,
and gives it back with what it saw: the round trip time and whether the destination pushed
back (429, 503, a timeout). A permit given back stays with its sender, which comes straight
back for the next one; senders waiting for a permit are woken only when the limit grows (a
wake-up is a trip through the GIL, and one that finds no permit is wasted). The adaptive limit
follows the idea of Vector's adaptive request concurrency, AIMD driven by round trips and
backpressure:

- It starts at one request and works in windows of one round trip (a window ends when a
  request sent during it is answered). Until the first decrease it doubles each good window
  and the first decrease halves it (TCP's slow start: the knee of a destination that takes
  forty requests at once is found in six round trips, not forty).
- A window in which the destination pushed back, or in which round trips were clearly slower
  than the baseline (requests are queueing at the destination), multiplies the limit by
  :data:`DECREASE_RATIO` (multiplicative decrease), once per window.
- A window in which the limit was reached and round trips were no slower than their moving
  average raises it by one (additive increase), up to ``max_concurrency``.
- A sender whose request was pushed back keeps its permit for the rest of a round trip
  (:meth:`AdaptiveConcurrency.hold_s`), so refusals, which come back at once, do not turn
  into a storm of re-sent requests.

The baseline for "clearly slower" is the fastest window of the last :data:`BASELINE_S`
seconds, not the moving average: the average follows the slower round trips our own queueing
causes, and a limit judged against it creeps upward; the recent minimum is what the
destination does when nothing queues. Growth is judged against the moving average, which is
robust to noisy round trips. The rules and their constants were chosen by simulating a
destination with a knee and one with a request-rate limit (tests/test_concurrency.py) and
checked against real sinks (benchmarks/arc.py; docs/performance.md).

With a fixed concurrency the number of sender threads is the limit and :class:`FixedConcurrency`
costs nothing. Time comes from an injectable clock, so the rules are tested without waiting.
"""

from __future__ import annotations

import collections
import math
import threading
from typing import Final, Protocol

import attrs

from deliverator._clock import Clock
from deliverator._config import DEFAULT_MAX_CONCURRENCY

INITIAL_LIMIT: Final = 1
"""Where the adaptive limit starts: one request, then slow start (see the module docstring)."""

DECREASE_RATIO: Final = 0.9
"""The limit is multiplied by this after a window with backpressure or queueing (Vector's
figure). 0.8 refuses a little less against a request-rate limit but lost goodput against the
real rate-limited sink (benchmarks/arc.py: 0.885 x R against 0.92 x R)."""

INCREASE_TOLERANCE: Final = 0.0
"""A window may be this much slower (as a fraction) than the moving average of round trips
and still let the limit grow."""

DECREASE_TOLERANCE: Final = 0.25
"""Round trips this much slower than the baseline mean requests are queueing: the limit
shrinks."""

RTT_SLACK_S: Final = 0.001
"""Added to the growth threshold: round trips jitter by about that much on a busy machine."""

QUEUEING_SLACK_S: Final = 0.005
"""Added to the decrease threshold: a few milliseconds more per round trip are not treated as
queueing. Against a fast destination our own CPU (and the GIL) lengthens round trips by that
much as more requests are in flight, which is no reason to send fewer; a destination that
really queues adds far more."""

PAUSE_AFTER_BACKPRESSURE: Final = 4
"""Good windows after a pushed-back one in which the limit does not grow: it comes back to
the level that was refused more slowly, so fewer requests are refused."""

EWMA_ALPHA: Final = 0.4
"""Weight of the newest window in the moving average and deviation of round trips."""

DEVIATION_SCALE: Final = 1.0
"""The decrease threshold also sits this many standard deviations of window round trips
above the baseline: the minimum of noisy windows is below their typical value, and noise
alone must not shrink the limit."""

BASELINE_S: Final = 60.0
"""The baseline is the fastest window of this many recent seconds."""

HISTORY: Final = 10_000
"""Limit changes kept in :attr:`AdaptiveConcurrency.history` (for charts and summaries)."""


@attrs.frozen(slots=True)
class Permit:
    """Leave to make one request, handed back with what happened."""

    issued_at: float
    """Clock time its request started (negative until then): answers to requests sent before
    the last decrease do not decrease the limit again (they were sent at the old limit)."""


class ConcurrencyLimiter(Protocol):
    """What a sender asks before each request and tells after it."""

    def acquire(self) -> Permit | None:
        """Wait for a permit; None when the limiter was closed (the run is stopping). A
        sender takes its permit before it takes a batch, so that senders beyond the limit
        wait here and leave the batches to those within it."""

    def started(self, permit: Permit) -> Permit:
        """The request is about to go: the permit, stamped with the time."""

    def release(self, permit: Permit, rtt_s: float | None, backpressure: bool) -> None:
        """Give the permit back. ``rtt_s`` is the request's round trip (None when there was
        no answer to time, e.g. the request was never made); ``backpressure`` says the
        destination asked us to slow down."""

    def hold_s(self, rtt_s: float | None) -> float:
        """How long a sender whose request was pushed back keeps its permit before
        releasing it (0: at once)."""

    def close(self) -> None:
        """Wake every waiting sender; :meth:`acquire` returns None from now on."""

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""


class FixedConcurrency:
    """A fixed number of requests in flight: the sender threads themselves are the limit, so
    asking costs nothing."""

    _PERMIT: Final = Permit(0.0)

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"concurrency must be at least 1, got {limit}")
        self._limit = limit
        self._closed = False

    @property
    def limit(self) -> int:
        return self._limit

    def acquire(self) -> Permit | None:
        return None if self._closed else self._PERMIT

    def started(self, permit: Permit) -> Permit:
        return permit

    def release(self, permit: Permit, rtt_s: float | None, backpressure: bool) -> None:
        return None

    def hold_s(self, rtt_s: float | None) -> float:
        return 0.0

    def close(self) -> None:
        self._closed = True


class AdaptiveConcurrency:
    """The adaptive limit (see the module docstring for the rules). Thread-safe."""

    def __init__(
        self, clock: Clock, max_concurrency: int = DEFAULT_MAX_CONCURRENCY, *, initial: int = INITIAL_LIMIT
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._clock = clock
        self.max_concurrency = max_concurrency
        self._limit = max(1, min(initial, max_concurrency))
        self._in_flight = 0
        self._holders = 0
        self._closed = False
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._window_start = clock.monotonic()
        self._window_rtt_sum = 0.0
        self._window_rtts = 0
        self._window_backpressure = False
        self._window_reached = False
        # (when, window mean) with rising means: the front is the fastest recent window.
        self._recent: collections.deque[tuple[float, float]] = collections.deque()
        self._mean: float | None = None
        self._variance = 0.0
        self._last_decrease = -math.inf
        self._slow_start = True
        self._pause = 0
        self.history: collections.deque[tuple[float, int]] = collections.deque(
            [(self._window_start, self._limit)], maxlen=HISTORY
        )
        """(clock time, new limit) at the start and at every change."""
        self.increases = 0
        self.decreases = 0
        self.backpressure_count = 0
        """Answers that pushed back."""

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        """Requests in flight now (permits whose request has started)."""
        return self._in_flight

    @property
    def holders(self) -> int:
        """Permits out now (senders in flight or about to take a batch)."""
        return self._holders

    @property
    def waiting(self) -> int:
        """Senders waiting for a permit."""
        return len(self._waiters)

    @property
    def baseline_rtt_s(self) -> float | None:
        """The fastest recent window's mean round trip, once there is one."""
        return self._recent[0][1] if self._recent else None

    def acquire(self) -> Permit | None:
        """A permit at once while fewer than the limit are out; otherwise wait in line (first
        come, first served).

        A sender that gives its permit back comes straight back for the next one, so a
        permit given back is not handed to a waiting sender unless the limit has room for
        both: waking a sender costs a trip through the GIL (often a whole switch interval,
        5 ms, behind the busy preparer thread), and one that wakes to find no permit has paid
        it for nothing. Waiting senders are woken when the limit grows, or by :meth:`close`.
        """
        with self._lock:
            if self._closed:
                return None
            if self._holders < self._limit:
                self._holders += 1
                return _NOT_STARTED
            waiter = _Waiter()
            self._waiters.append(waiter)
        waiter.wait()
        return _NOT_STARTED if waiter.granted else None

    def started(self, permit: Permit) -> Permit:
        with self._lock:
            self._in_flight += 1
            if self._in_flight >= self._limit:
                self._window_reached = True
            return Permit(self._clock.monotonic())

    def _grant(self, keep: int) -> None:
        """Hand permits to senders waiting in line while the limit has room, keeping ``keep``
        for the sender that just gave one back."""
        while self._waiters and self._holders + keep < self._limit:
            self._holders += 1
            self._waiters.popleft().wake(granted=True)

    def release(self, permit: Permit, rtt_s: float | None, backpressure: bool) -> None:
        with self._lock:
            self._holders = max(0, self._holders - 1)
            if permit.issued_at < 0:  # taken, never used for a request
                self._grant(keep=0)
                return
            self._in_flight = max(0, self._in_flight - 1)
            if backpressure:
                self.backpressure_count += 1
            # What a request sent before the last decrease saw was caused by the old limit,
            # and that decrease has already answered for it.
            current = permit.issued_at >= self._last_decrease
            if backpressure and current:
                self._window_backpressure = True
            # A pushed-back answer's round trip says nothing about queueing (it is often fast).
            if rtt_s is not None and rtt_s >= 0 and not backpressure and current:
                self._window_rtt_sum += rtt_s
                self._window_rtts += 1
            now = self._clock.monotonic()
            if self._window_over(permit, now):
                self._adjust(now)
            self._grant(keep=1)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while self._waiters:
                self._waiters.popleft().wake(granted=False)

    def hold_s(self, rtt_s: float | None) -> float:
        """How long a sender whose request was pushed back should keep its permit before
        releasing it: the rest of one baseline round trip. A refusal comes back at once, and
        a sender that went on at once would be refused again and again (a storm of 429s);
        held, the slot costs the destination what a normal request would."""
        baseline = self.baseline_rtt_s
        if baseline is None:
            return 0.0
        return max(0.0, baseline - (rtt_s or 0.0))

    def _window_over(self, permit: Permit, now: float) -> bool:
        """A window lasts one round trip: it ends when a request sent during it comes back,
        and never before one baseline round trip (so a burst of quick refusals decreases
        the limit once, not once each)."""
        if permit.issued_at < self._window_start or not (self._window_rtts or self._window_backpressure):
            return False
        baseline = self.baseline_rtt_s
        return baseline is None or now - self._window_start >= baseline * 0.999

    def _adjust(self, now: float) -> None:
        current = self._window_rtt_sum / self._window_rtts if self._window_rtts else None
        baseline = self.baseline_rtt_s
        limit = self._limit
        if self._window_backpressure or (
            current is not None and baseline is not None and current > self._threshold(baseline, DECREASE_TOLERANCE)
        ):
            limit = max(1, limit // 2) if self._slow_start else max(1, math.floor(limit * DECREASE_RATIO))
            self._slow_start = False
            if self._window_backpressure:
                self._pause = PAUSE_AFTER_BACKPRESSURE
        elif self._pause:
            self._pause -= 1
        elif self._window_reached and (
            current is None or self._mean is None or current <= self._mean * (1 + INCREASE_TOLERANCE) + RTT_SLACK_S
        ):
            limit = min(self.max_concurrency, limit * 2 if self._slow_start else limit + 1)
        if current is not None and not self._window_backpressure:
            self._remember(now, current)
        if limit != self._limit:
            if limit > self._limit:
                self.increases += 1
            else:
                self.decreases += 1
                self._last_decrease = now
            self._limit = limit
            self.history.append((now, limit))
        self._window_start = now
        self._window_rtt_sum, self._window_rtts = 0.0, 0
        self._window_backpressure = False
        self._window_reached = self._in_flight >= self._limit

    @property
    def deviation_s(self) -> float:
        """How much window round trips vary (moving standard deviation)."""
        return math.sqrt(self._variance)

    def _threshold(self, baseline: float, tolerance: float) -> float:
        return baseline * (1 + tolerance) + DEVIATION_SCALE * self.deviation_s + QUEUEING_SLACK_S

    def _remember(self, now: float, mean: float) -> None:
        """Add a window's mean to the sliding minimum over :data:`BASELINE_S`, and to the
        moving average and deviation."""
        if self._mean is None:
            self._mean = mean
        else:
            delta = mean - self._mean
            self._mean += EWMA_ALPHA * delta
            self._variance = (1 - EWMA_ALPHA) * (self._variance + EWMA_ALPHA * delta * delta)
        recent = self._recent
        while recent and recent[-1][1] >= mean:
            recent.pop()
        recent.append((now, mean))
        while recent[0][0] < now - BASELINE_S:
            recent.popleft()



_NOT_STARTED: Final = Permit(-1.0)
"""A permit whose request has not started (:meth:`AdaptiveConcurrency.started` stamps it)."""


class _Waiter:
    """One sender waiting in line for a permit."""

    __slots__ = ("_event", "granted")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.granted = False

    def wait(self) -> None:
        self._event.wait()

    def wake(self, *, granted: bool) -> None:
        self.granted = granted
        self._event.set()
