"""Misbehaviour on demand: what Amplitude does on a bad day, reproducibly.

:class:`Faults` is the value a test or the command line sets; :class:`FaultInjector` turns it
into one :class:`FaultDecision` per request. Random faults draw from a generator seeded by
``Faults.seed``, two numbers per request whichever fault fires, so a seed always gives the
same sequence of decisions. The per-user limit lives in ``throttle`` (it depends on the
request's content).
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any

import attrs


def _ratio(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a number from 0 to 1, got {value!r}")


def _seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < math.inf:
        raise ValueError(f"{attribute.name} must be a number of seconds >= 0, got {value!r}")


def _positive_seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    _seconds(_, attribute, value)
    if value == 0:
        raise ValueError(f"{attribute.name} must be more than 0 seconds")


def _count(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _server_error(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise ValueError(f"{attribute.name} must be a 5xx status, got {value!r}")


@attrs.frozen(kw_only=True)
class Faults:
    """Which faults the emulator injects into ``POST /2/httpapi`` requests.

    - ``latency_s``: every request waits this long (on the emulator's clock) first.
    - ``error_ratio``: that share of requests is answered ``error_status`` (a 5xx) and nothing
      is ingested.
    - ``accept_then_error_ratio``: that share of the requests that would succeed is ingested,
      then answered 500: the client cannot know, re-sends, and ``insert_id`` deduplication
      must keep each event once.
    - ``user_events_per_second``: the per-user and per-device limit (0: off; Amplitude's is
      30), over a sliding window of ``throttle_window_s``; requests over it are answered 429
      with ``throttled_users``, ``throttled_devices`` and ``throttled_events``.
    """

    latency_s: float = attrs.field(default=0.0, validator=_seconds)
    error_ratio: float = attrs.field(default=0.0, validator=_ratio)
    error_status: int = attrs.field(default=503, validator=_server_error)
    accept_then_error_ratio: float = attrs.field(default=0.0, validator=_ratio)
    user_events_per_second: int = attrs.field(default=0, validator=_count)
    throttle_window_s: float = attrs.field(default=1.0, validator=_positive_seconds)
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
        if self.error_ratio or self.accept_then_error_ratio:
            changed.append(f"seed={self.seed}")
        return ", ".join(changed)


@attrs.frozen(kw_only=True)
class FaultDecision:
    """The fate of one request: its latency, and whether it fails before or after ingesting."""

    latency_s: float = 0.0
    error_status: int | None = None
    error_after_ingest: bool = False


class FaultInjector:
    """Decides request by request, thread-safely. Replacing the faults resets the generator."""

    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self.replace(faults)

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    def replace(self, faults: Faults) -> None:
        """Switch to ``faults`` from the next request on."""
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)

    def decide(self) -> FaultDecision:
        """The decision for the next request."""
        with self._lock:
            faults = self._faults
            error_draw, after_draw = self._random.random(), self._random.random()
        if error_draw < faults.error_ratio:
            return FaultDecision(latency_s=faults.latency_s, error_status=faults.error_status)
        return FaultDecision(latency_s=faults.latency_s, error_after_ingest=after_draw < faults.accept_then_error_ratio)
