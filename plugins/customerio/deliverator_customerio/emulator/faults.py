"""Misbehaviour on demand: what a real service does on a bad day, reproducibly.

:class:`Faults` is the value a test or the command line sets; :class:`FaultInjector` turns it
into one :class:`FaultDecision` per write request. Random faults draw from a generator seeded
by ``Faults.seed``, and every request draws the same numbers in the same order whichever fault
fires, so a given seed always gives the same sequence of decisions.
"""

from __future__ import annotations

import enum
import math
import random
import threading
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


def _redirect(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
        raise ValueError(f"{attribute.name} must be an http:// or https:// base URL, got {value!r}")


@attrs.frozen(kw_only=True)
class Faults:
    """Which faults the emulator injects into batch and entity requests (the region check is
    never faulted: it is how a client learns where to send).

    Checked in this order, the first that fires decides the answer:

    - ``latency_s``: every request waits this long first.
    - ``drop_ratio``: close the connection without reading further or answering.
    - ``rate_limit_every``: every Nth request is answered 429 with ``Retry-After:
      retry_after_s``.
    - ``rate_limit_per_second``: requests beyond this many in one second of the emulator's
      clock are answered 429 with ``Retry-After`` the seconds left in that second (at least 1).
    - ``error_ratio``: answer ``error_status`` (a 5xx) without accepting anything.
    - ``redirect_to``: answer 307 with ``Location`` on that base URL (a wrong-region host).
    - ``lose_answer_ratio``: accept the items, then close the connection without answering:
      the client cannot know they arrived and must rely on ``id`` deduplication.
    - ``string_bodies``: 200 and 207 bodies are sent as a JSON string holding the JSON.
    """

    latency_s: float = attrs.field(default=0.0, validator=_seconds)
    drop_ratio: float = attrs.field(default=0.0, validator=_ratio)
    rate_limit_every: int = attrs.field(default=0, validator=_count)
    rate_limit_per_second: int = attrs.field(default=0, validator=_count)
    retry_after_s: int = attrs.field(default=1, validator=_count)
    error_ratio: float = attrs.field(default=0.0, validator=_ratio)
    error_status: int = attrs.field(default=503, validator=_server_error)
    redirect_to: str | None = attrs.field(default=None, validator=_redirect)
    lose_answer_ratio: float = attrs.field(default=0.0, validator=_ratio)
    string_bodies: bool = False
    seed: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))

    def describe(self) -> str:
        """The faults set, as ``name=value`` pairs, or ``none``."""
        default = Faults()
        changed = [
            f"{field.name}={getattr(self, field.name)!r}"
            for field in attrs.fields(Faults)
            if field.name != "seed" and getattr(self, field.name) != getattr(default, field.name)
        ]
        if not changed:
            return "none"
        if self.drop_ratio or self.error_ratio or self.lose_answer_ratio:
            changed.append(f"seed={self.seed}")
        return ", ".join(changed)


class FaultKind(enum.Enum):
    """What the emulator does with a request instead of (or besides) answering it normally."""

    NONE = "none"
    DROP = "drop"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    REDIRECT = "redirect"
    LOSE_ANSWER = "lose_answer"


@attrs.frozen(kw_only=True)
class FaultDecision:
    """The fate of one request: its extra latency, what fault (if any) fires, and the details
    that fault needs."""

    kind: FaultKind = FaultKind.NONE
    latency_s: float = 0.0
    retry_after_s: int = 0
    status: int = 0
    location: str = ""
    string_bodies: bool = False


NO_FAULT = FaultDecision()


class FaultInjector:
    """Decides request by request, thread-safely. Replacing the faults resets the request
    counter, the per-second window and the random generator."""

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
        self._window = -1
        self._in_window = 0

    def decide(self, path: str) -> FaultDecision:
        """The decision for the next request to ``path`` (a path, used to build redirects)."""
        with self._lock:
            faults = self._faults
            self._requests += 1
            # Always draw the three numbers, so the sequence does not depend on which fault fired.
            drop_draw, error_draw, lose_draw = (self._random.random() for _ in range(3))
            base = FaultDecision(latency_s=faults.latency_s, string_bodies=faults.string_bodies)
            if drop_draw < faults.drop_ratio:
                return attrs.evolve(base, kind=FaultKind.DROP)
            if faults.rate_limit_every and self._requests % faults.rate_limit_every == 0:
                return attrs.evolve(base, kind=FaultKind.RATE_LIMITED, retry_after_s=faults.retry_after_s)
            wait = self._over_budget(faults.rate_limit_per_second)
            if wait:
                return attrs.evolve(base, kind=FaultKind.RATE_LIMITED, retry_after_s=wait)
            if error_draw < faults.error_ratio:
                return attrs.evolve(base, kind=FaultKind.SERVER_ERROR, status=faults.error_status)
            if faults.redirect_to is not None:
                location = faults.redirect_to.rstrip("/") + path
                return attrs.evolve(base, kind=FaultKind.REDIRECT, status=307, location=location)
            if lose_draw < faults.lose_answer_ratio:
                return attrs.evolve(base, kind=FaultKind.LOSE_ANSWER)
            return base

    def _over_budget(self, per_second: int) -> int:
        """0 when the request fits this second's budget, else the whole seconds to wait."""
        if not per_second:
            return 0
        now = self._clock.monotonic()
        window = math.floor(now)
        if window != self._window:
            self._window, self._in_window = window, 0
        if self._in_window < per_second:
            self._in_window += 1
            return 0
        return max(1, math.ceil(window + 1 - now))
