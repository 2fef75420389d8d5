"""The answers the emulator gives, shaped like Customer.io's.

An :class:`Answer` is a plain value, so the API logic (``trackapi``) stays free of sockets and
the server (``server``) only writes what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import orjson

from deliverator_customerio.emulator.validation import ItemError

JSON: Final = "application/json"
TEXT: Final = "text/plain; charset=utf-8"


@attrs.frozen(kw_only=True)
class Answer:
    """One response: status, body and headers. ``drop`` closes the connection without
    answering at all; ``close`` answers and then closes it."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    close: bool = False


DROP: Final = Answer(status=0, drop=True)


def json_answer(status: int, value: Any, *, as_string: bool = False, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    """``value`` as a JSON body; with ``as_string`` the JSON is itself wrapped in a JSON string
    (Customer.io sometimes answers that way) and labelled text/plain."""
    encoded = orjson.dumps(value)
    if as_string:
        return Answer(status=status, body=orjson.dumps(encoded.decode()), headers=(("Content-Type", TEXT), *headers))
    return Answer(status=status, body=encoded, headers=(("Content-Type", JSON), *headers))


def errors_answer(status: int, reason: str, field: str, message: str, **extra: Any) -> Answer:
    """A whole-request error: ``{"errors": [{"reason", "field", "message"}]}`` (no index)."""
    return json_answer(status, {"errors": [{"reason": reason, "field": field, "message": message}]}, **extra)


def accepted(as_string: bool = False) -> Answer:
    """200 with ``{}``: every item accepted."""
    return json_answer(200, {}, as_string=as_string)


def multi_status(errors: Iterable[tuple[int, ItemError]], as_string: bool = False) -> Answer:
    """207 naming each invalid item by its 0-based ``batch_index``; all other items accepted."""
    entries = [{"batch_index": index, **error.as_json()} for index, error in errors]
    return json_answer(207, {"errors": entries}, as_string=as_string)


def invalid_request(errors: Iterable[ItemError]) -> Answer:
    """400: the whole request is malformed or (entity) its one item invalid."""
    return json_answer(400, {"errors": [error.as_json() for error in errors]})


def unauthorized() -> Answer:
    """401, with the body Customer.io's Track API sends for bad credentials."""
    return json_answer(
        401,
        {"meta": {"error": "Unauthorized request"}},
        headers=(("WWW-Authenticate", 'Basic realm="Customer.io Track API"'),),
    )


def too_large(size: int, limit: int, what: str, must_be_smaller: bool, close: bool = False) -> Answer:
    """413 for a body over the limit."""
    bound = f"smaller than {limit}" if must_be_smaller else f"at most {limit}"
    answer = errors_answer(413, "too_large", "", f"{what} is {size} bytes; it must be {bound} bytes")
    return attrs.evolve(answer, close=close)


def rate_limited(retry_after_s: int) -> Answer:
    """429 with ``Retry-After`` in seconds."""
    return errors_answer(
        429,
        "rate_limited",
        "",
        f"too many requests: retry after {retry_after_s} s",
        headers=(("Retry-After", str(retry_after_s)),),
    )


def server_error(status: int) -> Answer:
    """A 5xx that accepted nothing."""
    return errors_answer(status, "server_error", "", "the emulator was told to fail this request")


def redirect(status: int, location: str) -> Answer:
    """A redirect to the same path on another host (an account in the other region)."""
    return errors_answer(
        status,
        "wrong_region",
        "",
        f"this account's data lives on another host: {location}",
        headers=(("Location", location),),
    )


def not_found(method: str, path: str) -> Answer:
    """404 for a path the Track API does not have."""
    return errors_answer(404, "not_found", "", f"no such endpoint: {method} {path}")


def method_not_allowed(method: str, path: str, allowed: str) -> Answer:
    """405 for a known path called with the wrong method."""
    return errors_answer(
        405,
        "method_not_allowed",
        "",
        f"{method} is not allowed on {path}; use {allowed}",
        headers=(("Allow", allowed),),
    )


def region(url: str, name: str, environment_id: int) -> Answer:
    """200 from ``GET /api/v1/accounts/region``."""
    body: Mapping[str, Any] = {"url": url, "region": name, "environment_id": environment_id}
    return json_answer(200, body)
