"""Reading an event's time: ISO-8601 strings, Unix epoch numbers and digit-only strings of
them, the formats events really carry. Public as :func:`deliverator.parse_timestamp`, so that
every destination reads times the same way.

Choices:

- A time without an offset is UTC.
- Epoch numbers are read by magnitude: below 1e11 they are seconds (1e11 s is the year 5138),
  below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
- An event's own time lies between 1970 and 9999; ``event_range=False`` accepts any date
  ``datetime`` can hold (attribute values are data).

Everything here may run once per event on the hot path: patterns are compiled once and parsing
is left to ``datetime.fromisoformat`` (C code) rather than a general date parser.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, Final

_EPOCH_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_EVENT_MS: Final = 253_402_300_800_000 - 1
"""The last millisecond of the year 9999, the latest event time we accept."""


class TimestampError(ValueError):
    """A value that was meant to be a time but is not one we can read."""


def datetime_to_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, exact (no float rounding); naive times are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def epoch_number_to_ms(number: int | float) -> int:
    """Milliseconds from an epoch number in seconds, ms, µs or ns (read by magnitude)."""
    if isinstance(number, float) and not math.isfinite(number):
        raise TimestampError(f"{number!r} is not a time")
    magnitude = abs(number)
    if magnitude < 1e11:
        scaled = number * 1000
    elif magnitude < 1e14:
        scaled = number
    elif magnitude < 1e17:
        scaled = number / 1000 if isinstance(number, float) else number // 1000
    else:
        scaled = number / 1_000_000 if isinstance(number, float) else number // 1_000_000
    # Floats are rounded to the nearest ms so that 1712345678.9 s is ...678900 ms, not ...899.
    return round(scaled) if isinstance(scaled, float) else scaled


def iso8601_to_ms(text: str) -> int | None:
    """Milliseconds from anything ``datetime.fromisoformat`` reads, or None if ``text`` is not
    ISO-8601."""
    try:
        return datetime_to_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def _to_epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch from an ISO-8601 string, a digit-only string or a number.

    Raises :class:`TimestampError` (a ``ValueError``) with a message saying what is wrong.
    """
    if isinstance(value, bool):
        raise TimestampError(f"expected a time, got {value!r}")
    if isinstance(value, int | float):
        return epoch_number_to_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH_NUMBER.fullmatch(text):
            try:
                number = float(text) if "." in text else int(text)
            except ValueError:  # more digits than Python converts
                raise TimestampError(f"{_shorten(value)!r} is too long to be a Unix time") from None
            return epoch_number_to_ms(number)
        ms = iso8601_to_ms(text)
        if ms is None:
            raise TimestampError(f"{_shorten(value)!r} is neither ISO-8601 nor a Unix time")
        return ms
    raise TimestampError(f"expected a time (ISO-8601 string or number), got {type(value).__name__}")


def parse_timestamp(value: Any, *, event_range: bool = True) -> int:
    """Milliseconds since the Unix epoch from an ISO-8601 string (any fraction length, ``Z`` or
    any offset; a space instead of ``T``), a Unix time in seconds, ms, µs or ns, or a
    digit-only string of one. Raises :class:`TimestampError` (a ``ValueError``) saying what is
    wrong, also for a time outside 1970 to 9999 unless ``event_range`` is False.

    Example::

        parse_timestamp("2024-04-05T10:11:12.345Z")  # 1712311872345
        parse_timestamp(1712311872)  # 1712311872000
        parse_timestamp("1712311872345") // 1000  # Unix seconds: 1712311872
    """
    ms = _to_epoch_ms(value)
    if not event_range:
        return ms
    if not 0 <= ms <= MAX_EVENT_MS:
        raise TimestampError(f"{_shorten(value)!r} is outside 1970-01-01 to 9999-12-31")
    return ms



def _shorten(value: Any, limit: int = 60) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value
