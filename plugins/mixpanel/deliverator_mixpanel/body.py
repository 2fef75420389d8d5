"""Reading an answer's body without ever raising: Mixpanel's JSON, or whatever a proxy sent."""

from __future__ import annotations

from typing import Any

import orjson

from deliverator import HttpResponse


def json_body(response: HttpResponse) -> Any:
    """The body as JSON (a JSON string holding JSON is decoded once more); the text for a body
    that is not JSON; None when empty."""
    if not response.body.strip():
        return None
    try:
        value = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return response.text[:1000]
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def error_text(response: HttpResponse) -> str:
    """Mixpanel's ``error`` text, else the body's first 300 characters."""
    body = json_body(response)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str) and error:
            return error
    return "" if body is None else str(body)[:300]
