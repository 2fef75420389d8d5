"""The error text of a response, found the way Airbyte users expect.

Shared by the default messages and by ``error_message_contains`` filters so that what a
filter matches is what the user reads.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from deliverator._deepjson import dumps_deep
from deliverator._http import HttpResponse
from deliverator._recorded import MAX_BODY_BYTES, note

ERROR_KEYS: Final = (
    "message",
    "messages",
    "error",
    "errors",
    "failures",
    "failure",
    "detail",
    "err",
    "error_message",
    "msg",
    "reason",
    "status_message",
)
"""Keys looked up, in order, for a JSON body's error text (Airbyte's order)."""


def parse_body(response: HttpResponse) -> Any:
    """The body as JSON (a JSON string holding JSON is decoded once more), or None."""
    if not response.body:
        return None
    try:
        value = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def body_for_outcome(response: HttpResponse, limit: int = 1000) -> Any:
    """What an outcome's ``body`` records of a whole-request answer: the parsed JSON, else the
    first ``limit`` characters of the text, else None for an empty body.

    A body longer than an outcome record keeps (:data:`~deliverator._recorded.MAX_BODY_BYTES`)
    is not parsed at all: its note is made from the text, so the batch's items share a few
    kilobytes instead of a parsed copy of megabytes.
    """
    if not response.body:
        return None
    if len(response.body) > MAX_BODY_BYTES:
        head = response.body[: MAX_BODY_BYTES + 4].decode("utf-8", "replace")
        problem = f"{len(response.body)} bytes, more than the {MAX_BODY_BYTES} an outcome record keeps"
        return note(head, problem)
    value = parse_body(response)
    return value if value is not None else response.text[:limit]


def error_text(response: HttpResponse) -> str:
    """The first non-empty value of :data:`ERROR_KEYS` in a JSON body (lists joined with
    ", "), else the raw body text."""
    value = parse_body(response)
    if isinstance(value, dict):
        for key in ERROR_KEYS:
            found = _as_text(value.get(key), 1)
            if found:
                return found
    if isinstance(value, str):
        return value
    return response.text.strip()


_MAX_TEXT_DEPTH: Final = 16


def _as_text(value: Any, depth: int) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list) and depth < _MAX_TEXT_DEPTH:
        return ", ".join(filter(None, (_as_text(v, depth + 1) for v in value)))
    if isinstance(value, dict) and depth < _MAX_TEXT_DEPTH:
        for key in ERROR_KEYS:
            found = _as_text(value.get(key), depth + 1)
            if found:
                return found
    if isinstance(value, dict | list):
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # nested deeper than orjson writes
            return dumps_deep(value).decode()
    return str(value)
