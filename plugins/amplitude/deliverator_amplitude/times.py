"""Event times as Amplitude wants them: integer milliseconds since the Unix epoch.

Amplitude answers 400 for a ``time`` in any other form (an ISO string, a float), so every
time is converted here. Inputs: ISO-8601 strings (``datetime.fromisoformat``: any fraction
length, ``Z`` or an offset; no offset means UTC), and epoch numbers or digit-only strings,
read by magnitude (below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else
nanoseconds; 1e11 seconds is the year 5138, so no real seconds value is misread).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from deliverator import PayloadValidationError

TIME_FIELDS: Final = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
"""Where an event's time is looked for, in order: the first one present is used."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_MS: Final = 253_402_300_799_999
"""The last millisecond of the year 9999."""


def event_time_ms(event: Mapping[str, Any]) -> int | None:
    """The event's time in ms from the first of :data:`TIME_FIELDS` present, or None.

    Raises :class:`PayloadValidationError` naming the field for a value that is not a time.
    """
    for field in TIME_FIELDS:
        value = event.get(field)
        if value is None or value == "":
            continue
        milliseconds = to_ms(value)
        if milliseconds is None or not 0 <= milliseconds <= _MAX_MS:
            raise PayloadValidationError(
                f"{field}: {_shown(value)} is not a time between 1970 and 9999 (ISO-8601 or a Unix time)"
            )
        return milliseconds
    return None


def to_ms(value: Any) -> int | None:
    """Milliseconds since the epoch for an ISO-8601 string or an epoch number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _epoch_number_ms(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _epoch_number_ms(float(text) if "." in text else int(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        delta = moment - _EPOCH
    except OverflowError:
        return None
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _epoch_number_ms(number: int | float) -> int | None:
    if isinstance(number, float) and not math.isfinite(number):
        return None
    magnitude = abs(number)
    if magnitude < 1e11:
        scaled: int | float = number * 1000
    elif magnitude < 1e14:
        scaled = number
    elif magnitude < 1e17:
        scaled = number / 1000 if isinstance(number, float) else number // 1000
    else:
        scaled = number / 1_000_000 if isinstance(number, float) else number // 1_000_000
    # Rounded to the nearest ms, so 1712345678.9 s is ...678900 ms, not ...899.
    return round(scaled) if isinstance(scaled, float) else scaled


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
