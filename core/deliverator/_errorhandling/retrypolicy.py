"""When to send a failed batch again: the configured strategies, bounded by the server's
``Retry-After`` from below and by what is left of ``max_time`` from above.

One policy serves a whole run. The delivery loop asks it once per retry, with the event's own
attempt counter and first-attempt time, whatever the cause of the retry (5xx, 429, timeout):
one counter, one deadline, unlike Airbyte's separate retry layers.
"""

from __future__ import annotations

import math
import random

from deliverator._clock import Clock
from deliverator._errorhandling.backoff import (
    IMPLICIT_EXPONENTIAL_FACTOR,
    BackoffStrategy,
    WaitDecision,
    exponential_seconds,
)
from deliverator._errorhandling.config import ErrorHandlerConfig
from deliverator._errorhandling.headerwaits import retry_after_seconds
from deliverator._http import HttpResponse


class RetryPolicy:
    """Chooses the wait before each retry, or decides to give up.

    ``rng`` is the random source for jitter; pass a seeded ``random.Random`` for repeatable
    waits. ``fallback`` are the destination's own strategies (``DestinationSpec.default_backoff``),
    asked when no configured strategy answers.
    """

    def __init__(
        self,
        config: ErrorHandlerConfig,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        fallback: tuple[BackoffStrategy, ...] = (),
    ) -> None:
        self.config = config
        self._clock = clock
        self._rng = rng or random.Random()
        self._strategies = (*config.backoff_strategies, *fallback)

    def allows_retry(self, retry_number: int) -> bool:
        """Whether retry number ``retry_number`` (counted from 1) is within ``max_retries``."""
        return retry_number <= self.config.max_retries

    def next_wait(
        self,
        *,
        retry_number: int,
        response: HttpResponse | None,
        error: BaseException | None,
        first_attempt_at: float,
        at_least_s: float = 0.0,
    ) -> WaitDecision:
        """The wait before retry ``retry_number`` (1 for the first retry).

        ``first_attempt_at`` is ``clock.monotonic()`` when the event was first sent. The wait is
        the first strategy's answer (the implicit 1, 2, 4, 8, 16 s when none answers), raised to
        the server's ``Retry-After`` and capped by what is left of ``max_time``. It gives up when
        no time is left, when ``Retry-After`` needs more than is left, or when a header
        strategy's wait reaches its ``max_waiting_time_in_seconds``. Never negative.
        ``at_least_s`` is the destination's own minimum for one item (``retry_after_s``): it
        binds like ``Retry-After``, so an item asked to wait longer than ``max_time`` allows
        fails now instead of holding the run.
        """
        attempt = max(1, retry_number)
        max_time = self.config.max_time
        started = self._clock.monotonic()
        deadline = first_attempt_at + max_time
        elapsed = max(0.0, started - first_attempt_at)
        left = min(deadline - started, max_time)
        if left <= 0:
            return WaitDecision(
                0.0,
                give_up=f"gave up: max_time of {max_time:g} s used up ({elapsed:.1f} s since the first attempt)",
            )
        now = self._clock.time()
        chosen = self._strategy_wait(attempt, response, now)
        if chosen.give_up is not None:
            return WaitDecision(0.0, give_up=f"gave up: {chosen.give_up}")
        required = retry_after_seconds(response, now)
        seconds = max(0.0, chosen.seconds)
        if required is not None:
            if required > left:
                return WaitDecision(
                    0.0,
                    give_up=f"gave up: the server asked to wait {required:.1f} s (Retry-After) but only "
                    f"{left:.1f} s of max_time ({max_time:g} s) are left",
                )
            seconds = max(seconds, required)
        if at_least_s > 0:
            if at_least_s > left:
                return WaitDecision(
                    0.0,
                    give_up=f"gave up: the destination asked to wait {at_least_s:.1f} s before sending this "
                    f"event again but only {left:.1f} s of max_time ({max_time:g} s) are left",
                )
            seconds = max(seconds, at_least_s)
        return WaitDecision(_within(started, min(seconds, left), deadline))

    def _strategy_wait(self, attempt: int, response: HttpResponse | None, now: float) -> WaitDecision:
        for strategy in self._strategies:
            decision = strategy.wait(attempt=attempt, response=response, now=now, rng=self._rng)
            if decision is not None:
                return decision
        return WaitDecision(exponential_seconds(IMPLICIT_EXPONENTIAL_FACTOR, attempt))


def _within(now: float, seconds: float, deadline: float) -> float:
    """``seconds``, nudged down by rounding steps so that ``now + seconds`` is not past the
    deadline (``deadline - now`` added back to ``now`` can overshoot by one unit in the last
    place)."""
    while seconds > 0 and now + seconds > deadline:
        seconds = math.nextafter(seconds, 0.0)
    return seconds
