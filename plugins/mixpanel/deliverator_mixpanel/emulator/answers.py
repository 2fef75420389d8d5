"""The answers the emulator gives, shaped like Mixpanel's (``{code, status, error, ...}``).

An :class:`Answer` is a plain value, so the API logic stays free of sockets and the server
only writes what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import attrs
import orjson

from deliverator_mixpanel.emulator.validation import RecordError

_STATUS_TEXT: Final = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


@attrs.frozen(kw_only=True)
class Answer:
    """One response. ``drop`` closes the connection without answering; ``close`` answers, then
    closes it."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    close: bool = False


DROP: Final = Answer(status=0, drop=True)


def json_answer(status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    """``value`` as a JSON body."""
    return Answer(status=status, body=orjson.dumps(value), headers=(("Content-Type", "application/json"), *headers))


def error(status: int, message: str, *, headers: Iterable[tuple[str, str]] = (), **extra: Any) -> Answer:
    """``{"code", "error", "status"}``, Mixpanel's shape for a whole-request error."""
    text = _STATUS_TEXT.get(status, "Server Error" if status >= 500 else "Error")
    return json_answer(status, {"code": status, "error": message, "status": text, **extra}, headers)


def imported(count: int) -> Answer:
    """200: every event imported."""
    return json_answer(200, {"code": 200, "num_records_imported": count, "status": "OK"})


def partly_imported(count: int, failures: Iterable[tuple[int, str, RecordError]]) -> Answer:
    """400 listing the events that failed validation; all others were imported."""
    records = [
        {"index": index, "insert_id": insert_id, "field": problem.field, "message": problem.message}
        for index, insert_id, problem in failures
    ]
    return error(
        400,
        "some data points in the request failed validation",
        num_records_imported=count,
        failed_records=records,
    )


def unauthorized(message: str = "Invalid credentials") -> Answer:
    """401 for missing or wrong credentials."""
    return error(401, message, headers=(("WWW-Authenticate", 'Basic realm="Mixpanel"'),))


def too_large(limit: int, close: bool = False) -> Answer:
    """413 naming the limit in force, as Mixpanel's message does."""
    return attrs.evolve(error(413, f"request exceeds max limit of {limit} bytes"), close=close)


def rate_limited() -> Answer:
    """429 without ``Retry-After`` (Mixpanel sends none)."""
    return error(429, "Project exceeded rate limits. Please retry the request with exponential backoff.")


def engage(ok: bool, message: str | None = None) -> Answer:
    """``/engage?verbose=1``: always 200; ``status`` 1 or 0 says whether the updates were taken."""
    return json_answer(200, {"status": 1 if ok else 0, "error": message})
