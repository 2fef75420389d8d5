"""Backoff strategies: how long to wait before the next attempt, Airbyte's names and keys.

Each strategy is a small frozen value with one method, ``wait``, a pure function of the
attempt number, the response, the wall-clock time and a random source (for jitter). It answers
a :class:`WaitDecision`, or None when it has nothing to say (a header strategy whose header is
absent), so the next strategy or the default decides.
"""

from __future__ import annotations

import math
import random
import re
from typing import Protocol

import attrs

from deliverator._errorhandling import fields
from deliverator._errorhandling.headerwaits import extract, moment_from_value, seconds_from_value
from deliverator._http import HttpResponse


@attrs.frozen
class WaitDecision:
    """What to do before the next attempt: wait ``seconds``, or give up.

    ``give_up`` set means: stop retrying and fail the item(s), with this text appended to
    their error message so the reader knows why the retries stopped.
    """

    seconds: float = 0.0
    give_up: str | None = None


class BackoffStrategy(Protocol):
    """One way of choosing a wait."""

    def wait(
        self, *, attempt: int, response: HttpResponse | None, now: float, rng: random.Random
    ) -> WaitDecision | None:
        """The wait before retry number ``attempt`` (counted from 1), or None for no opinion.

        ``now`` is Unix time (for epoch and HTTP-date headers).
        """

    def describe(self) -> str:
        """A short name for messages (``exponential(factor=5)``)."""


def _jitter(rng: random.Random, jitter_range: float) -> float:
    # As Airbyte does (docs/error-handling.md): a uniform draw from [0, 2 * jitter_range].
    return rng.uniform(0.0, 2.0 * jitter_range) if jitter_range > 0 else 0.0


def exponential_seconds(factor: float, attempt: int) -> float:
    """``factor * 2**attempt`` without overflowing: infinity once it no longer fits a float
    (the caller caps every wait by what is left of ``max_time``)."""
    if factor == 0:
        return 0.0
    try:
        return math.ldexp(factor, attempt)
    except OverflowError:
        return math.inf


@attrs.frozen(kw_only=True)
class ConstantBackoff:
    """The same wait every time (``type = "constant"``), plus optional jitter."""

    backoff_time_in_seconds: float = attrs.field(validator=fields.non_negative)
    jitter_range_in_seconds: float = attrs.field(default=0.0, validator=fields.non_negative)

    def wait(
        self, *, attempt: int, response: HttpResponse | None, now: float, rng: random.Random
    ) -> WaitDecision | None:
        return WaitDecision(self.backoff_time_in_seconds + _jitter(rng, self.jitter_range_in_seconds))

    def describe(self) -> str:
        return f"constant({self.backoff_time_in_seconds:g} s)"


DEFAULT_EXPONENTIAL_FACTOR = 5.0
"""Airbyte's factor for an ``exponential`` strategy declared without one."""

IMPLICIT_EXPONENTIAL_FACTOR = 0.5
"""The factor used when no strategy is configured (or none has an opinion): 1, 2, 4, 8, 16 s."""


@attrs.frozen(kw_only=True)
class ExponentialBackoff:
    """``factor * 2**attempt`` seconds, attempt counted from 1 (``type = "exponential"``)."""

    factor: float = attrs.field(default=DEFAULT_EXPONENTIAL_FACTOR, validator=fields.non_negative)
    jitter_range_in_seconds: float = attrs.field(default=0.0, validator=fields.non_negative)

    def wait(
        self, *, attempt: int, response: HttpResponse | None, now: float, rng: random.Random
    ) -> WaitDecision | None:
        seconds = exponential_seconds(self.factor, attempt)
        return WaitDecision(seconds + _jitter(rng, self.jitter_range_in_seconds))

    def describe(self) -> str:
        return f"exponential(factor={self.factor:g})"


def _over_cap(seconds: float, cap: float | None, header: str) -> WaitDecision | None:
    if cap is not None and seconds >= cap:
        return WaitDecision(
            0.0,
            give_up=f"the {header} header asked for a wait of {seconds:.1f} s, at or over "
            f"max_waiting_time_in_seconds ({cap:g} s)",
        )
    return None


@attrs.frozen(kw_only=True)
class WaitTimeFromHeader:
    """Wait the number of seconds a response header names (``type = "wait_time_from_header"``).

    The value may also be an HTTP-date (as ``Retry-After`` allows), read as the time to wait
    until. A missing header, or one the regex or the number parser cannot read, means no opinion.
    """

    header: str = attrs.field(metadata=fields.reads(fields.header_name))
    regex: re.Pattern[str] | None = attrs.field(default=None, metadata=fields.reads(fields.regex))
    max_waiting_time_in_seconds: float | None = attrs.field(default=None, validator=fields.positive_or_none)

    def wait(
        self, *, attempt: int, response: HttpResponse | None, now: float, rng: random.Random
    ) -> WaitDecision | None:
        text = _header_text(response, self.header, self.regex)
        seconds = seconds_from_value(text, now) if text is not None else None
        if seconds is None:
            return None
        return _over_cap(seconds, self.max_waiting_time_in_seconds, self.header) or WaitDecision(seconds)

    def describe(self) -> str:
        return f"wait_time_from_header({self.header})"


@attrs.frozen(kw_only=True)
class WaitUntilTimeFromHeader:
    """Wait until the moment a response header names, as Unix seconds or an HTTP-date
    (``type = "wait_until_time_from_header"``), and at least ``min_wait`` seconds.

    A moment already past means no wait beyond ``min_wait``. A missing or unreadable header
    means no opinion.
    """

    header: str = attrs.field(metadata=fields.reads(fields.header_name))
    min_wait: float = attrs.field(default=0.0, validator=fields.non_negative)
    regex: re.Pattern[str] | None = attrs.field(default=None, metadata=fields.reads(fields.regex))
    max_waiting_time_in_seconds: float | None = attrs.field(default=None, validator=fields.positive_or_none)

    def wait(
        self, *, attempt: int, response: HttpResponse | None, now: float, rng: random.Random
    ) -> WaitDecision | None:
        text = _header_text(response, self.header, self.regex)
        moment = moment_from_value(text) if text is not None else None
        if moment is None:
            return None
        seconds = max(moment - now, self.min_wait, 0.0)
        return _over_cap(seconds, self.max_waiting_time_in_seconds, self.header) or WaitDecision(seconds)

    def describe(self) -> str:
        return f"wait_until_time_from_header({self.header})"


def _header_text(response: HttpResponse | None, header: str, regex: re.Pattern[str] | None) -> str | None:
    """The part of ``header`` a header strategy reads (the regex's group 1 or whole match),
    or None when there is no response, no such header or no match."""
    if response is None:
        return None
    raw = response.headers.get(header)
    return None if raw is None else extract(raw, regex)
