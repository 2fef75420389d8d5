"""Reading a wait out of a response header: a number of seconds, an epoch time, or an
HTTP-date, optionally cut out of a longer value by a regex.

Kept apart from the strategies so that the ``Retry-After`` minimum and the header strategies
read headers the same way.
"""

from __future__ import annotations

import math
import re
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final

from deliverator._http import HttpResponse

_DECIMAL: Final = re.compile(r"\s*\+?(\d+(?:\.\d*)?|\.\d+)\s*")

RETRY_AFTER: Final = "Retry-After"


def extract(value: str, regex: re.Pattern[str] | None) -> str | None:
    """The part of a header value a strategy reads.

    With a regex: searched anywhere in the value; a pattern with a capture group yields group 1,
    one without yields the whole match. None when the regex does not match (or group 1 did not
    take part in the match).
    """
    if regex is None:
        return value
    found = regex.search(value)
    if found is None:
        return None
    return found.group(1) if regex.groups else found.group(0)


def parse_number(text: str) -> float | None:
    """A plain non-negative decimal number (``"30"``, ``"1.5"``), or None.

    ``nan``, ``inf``, exponents and signs other than ``+`` are refused: a header is not a place
    for Python float syntax, and a NaN wait would poison every comparison after it.
    """
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def parse_http_date(text: str) -> float | None:
    """An HTTP-date (RFC 9110: IMF-fixdate, RFC 850 or asctime) as Unix time, or None.

    A date without a zone is read as UTC, which is what HTTP-dates always are.
    """
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def seconds_from_value(text: str, now: float) -> float | None:
    """A wait in seconds from a value holding either seconds or an HTTP-date (``now`` is
    Unix time). A date in the past means no wait (0). None when the value is neither."""
    number = parse_number(text)
    if number is not None:
        return number
    moment = parse_http_date(text)
    if moment is None:
        return None
    return max(0.0, moment - now)


def moment_from_value(text: str) -> float | None:
    """A point in time (Unix seconds) from a value holding an epoch number or an HTTP-date."""
    number = parse_number(text)
    if number is not None:
        return number
    return parse_http_date(text)


def retry_after_seconds(response: HttpResponse | None, now: float) -> float | None:
    """What the server's ``Retry-After`` header requires us to wait, or None if it sent none
    we can read. ``now`` is Unix time, for the HTTP-date form."""
    if response is None:
        return None
    value = response.headers.get(RETRY_AFTER)
    if value is None:
        return None
    return seconds_from_value(value, now)
