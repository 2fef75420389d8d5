"""The Amplitude destination: the hook implementations the core loads from the entry point
``amplitude`` in the group ``deliverator.destinations``.

Each hook is a thin shell over a module with one job: ``payloads`` maps events, ``httpapi``
makes the request, ``answers`` reads per-event results, ``classify`` judges whole answers,
``commands`` adds the emulator command and the demo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from deliverator import (
    Classification,
    DestinationSpec,
    HttpClient,
    HttpResponse,
    MultiStatusResponse,
    hookimpl,
)
from deliverator_amplitude.answers import item_results
from deliverator_amplitude.classify import classify_response
from deliverator_amplitude.commands import demo_environment, register_commands
from deliverator_amplitude.httpapi import BATCH_OVERHEAD_BYTES, post_events
from deliverator_amplitude.payloads import build_event
from deliverator_amplitude.settings import AmplitudeSettings

__all__ = [
    "SPEC",
    "build_payload",
    "classify_error",
    "demo_environment",
    "destination_spec",
    "parse_response",
    "register_commands",
    "send_batch",
]

MAX_BODY_BYTES: Final = 999_999
"""Amplitude takes request bodies under 1 MB."""

SPEC: Final = DestinationSpec(
    name="amplitude",
    settings_class=AmplitudeSettings,
    max_batch_items=2000,
    default_batch_items=500,
    max_batch_bytes=MAX_BODY_BYTES,
    max_item_bytes=MAX_BODY_BYTES - BATCH_OVERHEAD_BYTES,
    batch_overhead_bytes=BATCH_OVERHEAD_BYTES,
    description="Amplitude HTTP V2 API (events, $identify user properties)",
)
"""Amplitude's limits: at most 2000 events and under 1 MB per request. 500 events unless the
config says otherwise: a 400 or 429 rejects a whole request, so smaller batches re-send less."""


@hookimpl
def destination_spec() -> DestinationSpec:
    """Name, settings class and batch limits of the Amplitude destination."""
    return SPEC


@hookimpl
def build_payload(event: Mapping[str, Any], settings: AmplitudeSettings) -> dict[str, Any]:
    """One event to one HTTP V2 event (see ``payloads``); group and alias are ignored."""
    return build_event(event, settings)


@hookimpl
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: AmplitudeSettings, http: HttpClient) -> HttpResponse:
    """One ``POST {base}/2/httpapi``, never retried here."""
    return post_events(payloads, settings, http)


@hookimpl
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: AmplitudeSettings
) -> MultiStatusResponse | None:
    """Per-event results of a 200, and of a 400 or 429 that names events; None otherwise."""
    return item_results(response, payloads)


@hookimpl
def classify_error(
    response: HttpResponse | None, error: BaseException | None, settings: AmplitudeSettings
) -> Classification | None:
    """Judge a whole answer; transport errors are left to the core (they are retried)."""
    if response is None:
        return None
    return classify_response(response, settings)
