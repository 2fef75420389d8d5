"""The Customer.io destination: the hook implementations the core loads from the entry point
``customerio`` in the group ``deliverator.destinations``.

Each hook is a thin shell over a module with one job: ``payloads`` maps events to items,
``trackapi`` makes the requests, ``answers`` reads 2xx answers item by item, ``classify``
judges the other (whole-request) answers, ``credentials`` runs ``deliverator check``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from deliverator import (
    CheckResult,
    Classification,
    DestinationSpec,
    HttpClient,
    HttpResponse,
    MultiStatusResponse,
    hookimpl,
)
from deliverator_customerio import credentials
from deliverator_customerio.answers import item_results, read_batch_answer
from deliverator_customerio.classify import classify_response
from deliverator_customerio.commands import demo_environment, register_commands
from deliverator_customerio.payloads import build_item
from deliverator_customerio.settings import CustomerIOSettings
from deliverator_customerio.trackapi import BATCH_OVERHEAD_BYTES, post_batch

__all__ = [
    "SPEC",
    "build_payload",
    "check_credentials",
    "classify_error",
    "demo_environment",
    "destination_spec",
    "parse_response",
    "register_commands",
    "send_batch",
]

SPEC: Final = DestinationSpec(
    name="customerio",
    settings_class=CustomerIOSettings,
    max_batch_items=1000,
    default_batch_items=100,
    max_batch_bytes=499_999,
    max_item_bytes=32_000,
    batch_overhead_bytes=BATCH_OVERHEAD_BYTES,
    description="Customer.io Track API v2 (people, events, page and screen views, objects, merges)",
)
"""Customer.io's limits: a request body under 500,000 bytes, items up to 32,000 bytes, up to
1000 items per batch (100 unless the config says otherwise)."""


@hookimpl
def destination_spec() -> DestinationSpec:
    """Name, settings class and batch limits of the Customer.io destination."""
    return SPEC


@hookimpl
def build_payload(event: Mapping[str, Any], settings: CustomerIOSettings) -> dict[str, Any]:
    """One event to one Track API v2 batch item (see ``payloads``)."""
    return build_item(event, settings)


@hookimpl
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: CustomerIOSettings, http: HttpClient) -> HttpResponse:
    """One ``POST {base}/api/v2/batch``, never retried here."""
    return post_batch(payloads, settings, http)


@hookimpl
def classify_error(
    response: HttpResponse | None, error: BaseException | None, settings: CustomerIOSettings
) -> Classification | None:
    """Judge an answer that is about the whole request (not a 2xx); exceptions are left to the
    core (transport errors are retried)."""
    if response is None:
        return None
    return classify_response(response, settings)


@hookimpl
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: CustomerIOSettings
) -> MultiStatusResponse | None:
    """Per-item results of a 2xx answer, its body read once; other statuses are whole-request
    answers (None: ``classify_error`` decides)."""
    if not 200 <= response.status < 300:
        return None
    return item_results(read_batch_answer(response), payloads)


@hookimpl
def check_credentials(settings: CustomerIOSettings, http: HttpClient) -> CheckResult:
    """``GET /api/v1/accounts/region``: credentials valid, and in which region."""
    return credentials.check_credentials(settings, http)
