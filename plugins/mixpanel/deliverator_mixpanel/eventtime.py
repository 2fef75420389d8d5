"""An event's time as Mixpanel's ``properties.time``: integer milliseconds since the epoch.

Mixpanel takes seconds or milliseconds; we always send milliseconds, so sub-second order is
kept. ISO-8601 strings (``Z`` or any offset; no offset means UTC) and epoch numbers (read by
magnitude: below 1e11 seconds, else milliseconds) are accepted, as numbers or digit strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

TIME_FIELDS: Final = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
"""Where the time is looked for, in order: the first one present is used."""

_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class EventTimeError(ValueError):
    """A time we cannot read, with a message that says why."""


def event_time_ms(event: Mapping[str, Any]) -> tuple[str, int] | None:
    """(field, ms) from the first of :data:`TIME_FIELDS` present, or None when none is."""
    for field in TIME_FIELDS:
        value = event.get(field)
        if value is not None and value != "":
            return field, to_ms(value)
    return None


def to_ms(value: Any) -> int:
    """Milliseconds since the epoch; raises :class:`EventTimeError`."""
    if isinstance(value, bool):
        raise EventTimeError(f"expected a time, got {value!r}")
    if isinstance(value, int | float):
        return _number_ms(value)
    if not isinstance(value, str):
        raise EventTimeError(f"expected an ISO-8601 string or a number, got {type(value).__name__}")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _number_ms(float(text) if "." in text else int(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EventTimeError(f"{text[:60]!r} is neither ISO-8601 nor a Unix time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _number_ms(number: int | float) -> int:
    if isinstance(number, float) and not math.isfinite(number):
        raise EventTimeError(f"{number!r} is not a time")
    if number < 0:
        raise EventTimeError(f"{number!r} is before 1970")
    scaled = number * 1000 if number < 1e11 else number
    return round(scaled) if isinstance(scaled, float) else int(scaled)
