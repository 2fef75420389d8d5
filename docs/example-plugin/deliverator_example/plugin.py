"""The example destination: one module of hook implementations.

The made-up service takes ``POST {endpoint}/v1/batch`` with ``{"items": [...]}`` and a bearer
token, and answers ``{"results": [{"status": 200}, {"status": 400, "error": "..."}, ...]}``,
one result per item, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from deliverator import (
    DestinationSpec,
    HttpClient,
    HttpResponse,
    MultiStatusResponse,
    PayloadValidationError,
    Secret,
    encode_items,
    hookimpl,
)


@attrs.frozen(kw_only=True)
class ExampleSettings:
    """``[destination.settings]`` for the example service."""

    endpoint: str
    token: Secret = attrs.field(repr=False)


@hookimpl
def destination_spec() -> DestinationSpec:
    """Name, settings and limits: at most 50 items and 100 kB per request."""
    return DestinationSpec(
        name="example",
        settings_class=ExampleSettings,
        max_batch_items=50,
        max_batch_bytes=100_000,
        max_item_bytes=10_000,
        batch_overhead_bytes=len(b'{"items":[]}'),
    )


@hookimpl
def build_payload(event: Mapping[str, Any], settings: ExampleSettings) -> dict[str, Any]:
    """One event to one item; the service needs a messageId to deduplicate."""
    message_id = event.get("messageId")
    if not message_id:
        raise PayloadValidationError("the example service needs 'messageId'")
    return {
        "id": message_id,
        "kind": event["type"],
        "user": event.get("userId") or event.get("anonymousId"),
        "name": event.get("event") or event.get("name"),
        "data": event.get("properties") or event.get("traits") or {},
    }


@hookimpl
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: ExampleSettings, http: HttpClient) -> HttpResponse:
    """One POST; the core retries, never the plugin. ``encode_items`` reuses the JSON the core
    already encoded for each payload when it measured it for batching."""
    return http.post(
        f"{settings.endpoint}/v1/batch",
        body=b'{"items":[' + encode_items(payloads) + b"]}",
        headers={"Authorization": f"Bearer {settings.token.reveal()}", "Content-Type": "application/json"},
    )


@hookimpl
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: ExampleSettings
) -> MultiStatusResponse | None:
    """Map the service's per-item results of a 2xx answer, one per payload, in order; any other
    status is about the whole request (None: the core's status table decides).

    An answer we cannot map is not a delivery: every item gets a retryable 502, which is safe
    because the service deduplicates by ``id``.
    """
    if not 200 <= response.status < 300:
        return None
    statuses = MultiStatusResponse()
    try:
        results = response.json()["results"]
    except (ValueError, KeyError, TypeError):
        results = None
    if not isinstance(results, list) or len(results) != len(payloads):
        for payload in payloads:
            statuses.push_error(
                status=502, errormessage="the service answered without one result per item", sent=payload
            )
        return statuses
    for payload, result in zip(payloads, results, strict=True):
        status = int(result.get("status", 500))
        if status < 300:
            statuses.push_success(status=status, sent=payload, body=result)
        else:
            statuses.push_error(status=status, errormessage=str(result.get("error", "")), sent=payload, body=result)
    return statuses
