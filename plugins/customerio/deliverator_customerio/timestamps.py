"""Times as Customer.io wants them: integer Unix seconds.

The event's own time is read by the core's :func:`deliverator.parse_timestamp` (ISO-8601
strings, epoch numbers in seconds or milliseconds, digit-only strings of those; 1970 to 9999).
Nested attribute values that look like dates are converted too: they are data and may be any
date ``datetime`` can hold. This runs once per event on the hot path, so the pattern is compiled
once.

Choices are documented in docs/destinations/customerio.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from deliverator import TimestampError, parse_timestamp

__all__ = [
    "STRICT_ISO8601",
    "TimestampError",
    "convert_nested_timestamps",
    "to_epoch_ms",
    "to_event_ms",
    "to_unix_seconds",
]

STRICT_ISO8601: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # the date is required
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"  # then optionally a time, any fraction length
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"  # and an optional offset
)
"""What counts as a timestamp inside attributes: a calendar date, optionally with a time.
Deliberately narrower than what ``fromisoformat`` accepts (no week dates, no basic format),
so that a product code such as ``20240101`` stays a string."""



def to_epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch from an ISO-8601 string, a digit-only string or a number,
    any date. Raises :class:`TimestampError` (a ``ValueError``) saying what is wrong."""
    return parse_timestamp(value, event_range=False)


def to_event_ms(value: Any) -> int:
    """Like :func:`to_epoch_ms`, limited to the times an event may carry (1970 to 9999)."""
    return parse_timestamp(value)


def iso8601_to_ms(text: str) -> int | None:
    """Milliseconds from a :data:`STRICT_ISO8601` string, or None if ``text`` is not one."""
    if STRICT_ISO8601.fullmatch(text) is None:
        return None
    try:
        return parse_timestamp(text, event_range=False)
    except TimestampError:
        return None


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
