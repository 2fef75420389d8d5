"""Times as Customer.io wants them: integer Unix seconds.

Events arrive with ISO-8601 strings (any fraction length, ``Z`` or any offset), epoch numbers
in seconds or milliseconds, or digit-only strings of those. Everything here runs once per
event on the hot path, so the patterns are compiled once and parsing is left to
``datetime.fromisoformat`` (C code) rather than a general date parser.

Choices (documented in docs/destinations/customerio.md):

- A time without an offset is UTC.
- Epoch numbers are read by magnitude: below 1e11 they are seconds (1e11 s is the year 5138),
  below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
- The event's own time must lie between 1970 and 9999 (a ULID cannot hold an earlier time);
  nested attribute values are data and may be any date ``datetime`` can hold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

STRICT_ISO8601: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # the date is required
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"  # then optionally a time, any fraction length
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"  # and an optional offset
)
"""What counts as a timestamp inside attributes: a calendar date, optionally with a time.
Deliberately narrower than what ``fromisoformat`` accepts (no week dates, no basic format),
so that a product code such as ``20240101`` stays a string."""

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


def iso8601_to_ms(text: str, *, strict: bool = True) -> int | None:
    """Milliseconds from an ISO-8601 string, or None if ``text`` is not one.

    ``strict`` accepts only :data:`STRICT_ISO8601`; otherwise anything
    ``datetime.fromisoformat`` reads (a space instead of ``T``, week dates, ...) is accepted.
    """
    if strict and STRICT_ISO8601.fullmatch(text) is None:
        return None
    try:
        return datetime_to_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def to_epoch_ms(value: Any) -> int:
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
        ms = iso8601_to_ms(text, strict=False)
        if ms is None:
            raise TimestampError(f"{_shorten(value)!r} is neither ISO-8601 nor a Unix time")
        return ms
    raise TimestampError(f"expected a time (ISO-8601 string or number), got {type(value).__name__}")


def to_event_ms(value: Any) -> int:
    """Like :func:`to_epoch_ms`, limited to the times an event may carry (1970 to 9999)."""
    ms = to_epoch_ms(value)
    if not 0 <= ms <= MAX_EVENT_MS:
        raise TimestampError(f"{_shorten(value)!r} is outside 1970-01-01 to 9999-12-31")
    return ms


def to_unix_seconds(value: Any) -> int:
    """Integer Unix seconds (rounded down) from anything :func:`to_epoch_ms` reads."""
    return to_epoch_ms(value) // 1000


def convert_nested_timestamps(value: Any) -> Any:
    """``value`` with every strict ISO-8601 string inside it (in objects and lists, at any
    depth) replaced by integer Unix seconds.

    Containers are never mutated, because the event belongs to the caller; one that holds no
    timestamp is returned as it is (no copy), one that does is rebuilt. This runs over every
    event's properties on the hot path, so plain dicts, lists and strings are recognised by
    exact type before the slower abstract checks.
    """
    kind = type(value)
    if kind is str:
        return _convert_string(value)
    if kind is dict:
        return _convert_mapping(value)
    if kind is list:
        return _convert_list(value)
    if isinstance(value, str):
        return _convert_string(value)
    if isinstance(value, Mapping):
        return _convert_mapping(value)
    if isinstance(value, list):
        return _convert_list(value)
    return value


def _convert_mapping(value: Mapping[Any, Any]) -> Any:
    changed: dict[Any, Any] | None = None
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            # Inlined shape test: almost every attribute string fails it at once.
            if len(item) < 10 or item[4] != "-" or not item[0].isdigit():
                continue
            converted = _convert_string(item)
        elif kind is int or kind is float or kind is bool or item is None:
            continue
        else:
            converted = convert_nested_timestamps(item)
        if converted is not item:
            if changed is None:
                changed = dict(value)
            changed[key] = converted
    return value if changed is None else changed


def _convert_list(value: list[Any]) -> Any:
    items = [convert_nested_timestamps(item) for item in value]
    return value if all(new is old for new, old in zip(items, value, strict=True)) else items


def _convert_string(text: str) -> Any:
    # Cheap shape test first: almost every attribute string fails it at once.
    if len(text) < 10 or text[4] != "-" or not text[0].isdigit():
        return text
    ms = iso8601_to_ms(text)
    return text if ms is None else ms // 1000


def _shorten(value: Any, limit: int = 60) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value
