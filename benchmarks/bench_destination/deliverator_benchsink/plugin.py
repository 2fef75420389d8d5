"""The ``benchsink`` destination's hooks: one item per event, ``{"batch": [...]}`` per
request, and the sink's ``{"results": [{"status": ...}, ...]}`` mapped to one MultiStatus entry
per item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import orjson

from deliverator import (
    DestinationSpec,
    ErrorResponse,
    HttpClient,
    HttpResponse,
    MultiStatusResponse,
    PayloadValidationError,
    SuccessResponse,
    hookimpl,
)

_ENVELOPE = b'{"batch":[]}'


@attrs.frozen(kw_only=True)
class BenchSinkSettings:
    """Where the bench sink listens, e.g. ``http://127.0.0.1:PORT``."""

    endpoint: str


@hookimpl
def destination_spec() -> DestinationSpec:
    """Customer.io's limits, so batches look like the real thing."""
    return DestinationSpec(
        name="benchsink",
        settings_class=BenchSinkSettings,
        max_batch_items=100,
        max_batch_bytes=500_000,
        max_item_bytes=32_000,
        batch_overhead_bytes=len(_ENVELOPE),
        description="benchmark sink with per-item answers (benchmarks only)",
    )


@hookimpl
def build_payload(event: Mapping[str, Any], settings: BenchSinkSettings) -> dict[str, Any]:
    """The event's id (its messageId, which the sink counts arrivals by) and what it was."""
    message_id = event.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise PayloadValidationError("benchsink needs a string 'messageId' to count arrivals by")
    return {
        "id": message_id,
        "type": event.get("type"),
        "userId": event.get("userId"),
        "event": event.get("event"),
        "timestamp": event.get("timestamp"),
    }


@hookimpl
def send_batch(
    payloads: Sequence[Mapping[str, Any]], settings: BenchSinkSettings, http: HttpClient
) -> HttpResponse:
    """One POST of the whole batch."""
    body = orjson.dumps({"batch": list(payloads)})
    return http.post(
        f"{settings.endpoint.rstrip('/')}/bench/batch",
        body=body,
        headers={"Content-Type": "application/json"},
    )


@hookimpl
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: BenchSinkSettings
) -> MultiStatusResponse:
    """One entry per item from ``results``; an answer that does not fit the batch is retried
    whole as a 502, since the sink may not have seen the items."""
    result = MultiStatusResponse()
    try:
        entries = response.json()["results"]
        if not isinstance(entries, list) or len(entries) != len(payloads):
            raise ValueError(f"{len(payloads)} items sent, results do not match")
        statuses = [int(entry["status"]) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        message = f"bench sink answer does not give one result per item: {exc}"
        for payload in payloads:
            result.push(ErrorResponse(status=502, errormessage=message, sent=payload))
        return result
    for payload, entry, status in zip(payloads, entries, statuses, strict=True):
        if 200 <= status < 300:
            result.push(SuccessResponse(status=status, sent=payload, body=entry))
        else:
            message = str(entry.get("message") or f"refused with status {status}")
            result.push(ErrorResponse(status=status, errormessage=message, sent=payload, body=entry))
    return result
