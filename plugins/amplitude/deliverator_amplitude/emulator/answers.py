"""The answers the emulator gives, shaped like Amplitude's HTTP V2 API.

An :class:`Answer` is a plain value, so the API logic (``api``) stays free of sockets and the
server (``server``) only writes what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
import orjson

JSON: Final = "application/json"


@attrs.frozen(kw_only=True)
class Answer:
    """One response: status, body and headers; ``close`` answers and then closes the connection."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


def json_answer(status: int, value: Mapping[str, Any], *, close: bool = False) -> Answer:
    """``value`` as a JSON body with ``"code": status`` first, as Amplitude writes it."""
    return Answer(
        status=status, body=orjson.dumps({"code": status, **value}), headers=(("Content-Type", JSON),), close=close
    )


def ingested(count: int, size: int, upload_time_ms: int) -> Answer:
    """200: every event of the request was ingested (duplicates are counted too: they were
    accepted, then ignored by deduplication)."""
    return json_answer(
        200, {"events_ingested": count, "payload_size_bytes": size, "server_upload_time": upload_time_ms}
    )


def bad_request(error: str, missing_field: str | None = None, *, close: bool = False) -> Answer:
    """400 about the whole request (no per-event detail), optionally naming a missing field."""
    extra: dict[str, Any] = {"missing_field": missing_field} if missing_field is not None else {}
    return json_answer(400, {"error": error, **extra}, close=close)


def invalid_events(
    invalid: Mapping[str, Sequence[int]],
    missing: Mapping[str, Sequence[int]],
    id_lengths: Mapping[str, Sequence[int]],
    upload_time_ms: int,
) -> Answer:
    """400 naming the events at fault by field; nothing in the request was ingested."""
    body: dict[str, Any] = {"error": "Invalid field values on some events"}
    for key, fields in (
        ("events_with_invalid_fields", invalid),
        ("events_with_missing_fields", missing),
        ("events_with_invalid_id_lengths", id_lengths),
    ):
        if fields:
            body[key] = {name: list(indices) for name, indices in sorted(fields.items())}
    body["server_upload_time"] = upload_time_ms
    return json_answer(400, body)


def too_large(*, close: bool = False) -> Answer:
    """413 with Amplitude's body."""
    return json_answer(413, {"error": "Payload too large"}, close=close)


def throttled(
    eps_threshold: int,
    users: Mapping[str, float],
    devices: Mapping[str, float],
    events: Sequence[int],
) -> Answer:
    """429 naming the throttled users and devices (with their events per second) and the
    indices of their events; nothing in the request was ingested. No ``Retry-After``: Amplitude
    documents a 30 s pause for those users instead."""
    return json_answer(
        429,
        {
            "error": "Too many requests for some devices and users",
            "eps_threshold": eps_threshold,
            "throttled_devices": dict(devices),
            "throttled_users": dict(users),
            "throttled_events": list(events),
        },
    )


def server_error(status: int) -> Answer:
    """A 5xx (whether anything was ingested is up to the fault)."""
    return json_answer(status, {"error": "the emulator was told to fail this request"})


def not_found(method: str, path: str) -> Answer:
    """404 for a path the API does not have."""
    return json_answer(404, {"error": f"Invalid request path: {method} {path}"})


def method_not_allowed(method: str, path: str) -> Answer:
    """405 for the right path with the wrong method."""
    answer = json_answer(405, {"error": f"{method} is not allowed on {path}; use POST"})
    return attrs.evolve(answer, headers=(*answer.headers, ("Allow", "POST")))
