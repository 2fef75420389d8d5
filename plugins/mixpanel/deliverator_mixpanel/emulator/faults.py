"""Misbehaviour on demand, reproducibly: what Mixpanel does on a bad day.

:class:`Faults` is the value a test or the command line sets; :class:`FaultInjector` turns it
into one :class:`FaultDecision` per write request. Random faults draw from a generator seeded
by ``Faults.seed``; every request draws the same numbers whichever fault fires, so a seed
always gives the same sequence.
"""

from __future__ import annotations

import enum
import math
import random
import threading
from collections import deque
from typing import Any

import attrs

from deliverator import Clock, RealClock


def _ratio(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a number from 0 to 1, got {value!r}")


def _count(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < math.inf:
        raise ValueError(f"{attribute.name} must be a number of seconds >= 0, got {value!r}")


def _server_error(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise ValueError(f"{attribute.name} must be a 5xx status, got {value!r}")


@attrs.frozen(kw_only=True)
class Faults:
    """Which faults the emulator injects into ``/import`` and ``/engage`` requests. Checked in
    this order, the first that fires decides:

    - ``latency_s``: every request waits this long first (on the emulator's clock).
    - ``rate_limit_every``: every Nth request is answered 429.
    - ``project_events_per_window``: the project's rate limit: a request that would take the
      events accepted in the last ``rate_window_s`` seconds past this many is answered 429
      (Mixpanel's is about 30,000 a second over a rolling minute).
    - ``error_ratio``: answer ``error_status`` (a 5xx) without importing anything.
    - ``lose_answer_ratio``: import the events, then close the connection unanswered: the
      client cannot know they arrived and must rely on ``$insert_id`` deduplication.
    """

    latency_s: float = attrs.field(default=0.0, validator=_seconds)
    rate_limit_every: int = attrs.field(default=0, validator=_count)
    project_events_per_window: int = attrs.field(default=0, validator=_count)
    rate_window_s: float = attrs.field(default=60.0, validator=_seconds)
    error_ratio: float = attrs.field(default=0.0, validator=_ratio)
    error_status: int = attrs.field(default=503, validator=_server_error)
    lose_answer_ratio: float = attrs.field(default=0.0, validator=_ratio)
    seed: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))

    def describe(self) -> str:
        """The faults set, as ``name=value`` pairs, or ``none``."""
        default = Faults()
        changed = [
            f"{field.name}={getattr(self, field.name)!r}"
            for field in attrs.fields(Faults)
            if getattr(self, field.name) != getattr(default, field.name)
        ]
        return ", ".join(changed) or "none"


class FaultKind(enum.Enum):
    """What happens to a request instead of (or besides) its normal answer."""

    NONE = "none"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    LOSE_ANSWER = "lose_answer"


@attrs.frozen(kw_only=True)
class FaultDecision:
    """The fate of one request."""

    kind: FaultKind = FaultKind.NONE
    latency_s: float = 0.0
    status: int = 0


class FaultInjector:
    """Decides request by request, thread-safely. Replacing the faults resets the counters, the
    rate window and the random generator."""

    def __init__(self, faults: Faults, clock: Clock | None = None) -> None:
        self._lock = threading.Lock()
        self._clock = clock or RealClock()
        self._install(faults)

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    def replace(self, faults: Faults) -> None:
        """Switch to ``faults`` from the next request on."""
        with self._lock:
            self._install(faults)

    def _install(self, faults: Faults) -> None:
        self._faults = faults
        self._random = random.Random(faults.seed)
        self._requests = 0
        self._window: deque[tuple[float, int]] = deque()
        self._in_window = 0

    def decide(self, events: int) -> FaultDecision:
        """The decision for the next request, which carries ``events`` events."""
        with self._lock:
            faults = self._faults
            self._requests += 1
            error_draw, lose_draw = self._random.random(), self._random.random()
            base = FaultDecision(latency_s=faults.latency_s)
            if faults.rate_limit_every and self._requests % faults.rate_limit_every == 0:
                return attrs.evolve(base, kind=FaultKind.RATE_LIMITED)
            if faults.project_events_per_window and not self._fits(events, faults):
                return attrs.evolve(base, kind=FaultKind.RATE_LIMITED)
            if error_draw < faults.error_ratio:
                return attrs.evolve(base, kind=FaultKind.SERVER_ERROR, status=faults.error_status)
            if lose_draw < faults.lose_answer_ratio:
                return attrs.evolve(base, kind=FaultKind.LOSE_ANSWER)
            return base

    def _fits(self, events: int, faults: Faults) -> bool:
        """Whether ``events`` more fit the project's rolling window; if so they are counted."""
        now = self._clock.monotonic()
        window = self._window
        while window and window[0][0] <= now - faults.rate_window_s:
            self._in_window -= window.popleft()[1]
        if self._in_window + events > faults.project_events_per_window:
            return False
        window.append((now, events))
        self._in_window += events
        return True
