"""Small builders shared by the error-handling tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from deliverator._http import HttpResponse


def response(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """A response value as the HTTP client builds it: bytes as given, text encoded, anything
    else encoded as JSON."""
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = orjson.dumps(body)
    return HttpResponse(status=status, headers=dict(headers or {}), body=raw)
