"""The Mixpanel destination: the hook implementations the core loads from the entry point
``mixpanel`` in the group ``deliverator.destinations``.

Each hook is a thin shell over a module with one job: ``payloads`` maps events,
``wire`` makes the requests, ``answers`` reads per-item results, ``classify`` judges whole
answers, ``commands`` adds the emulator command and the demo.
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
from deliverator_mixpanel.answers import item_results
from deliverator_mixpanel.classify import classify_response
from deliverator_mixpanel.commands import demo_environment, register_commands
from deliverator_mixpanel.payloads import build, is_profile_update
from deliverator_mixpanel.settings import MixpanelSettings
from deliverator_mixpanel.wire import ARRAY_OVERHEAD_BYTES, post_batch

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


def request_kind(payload: Mapping[str, Any]) -> str:
    """Which request a payload travels in: ``engage`` (profile updates) or ``import``."""
    return "engage" if is_profile_update(payload) else "import"


BACKOFF: Final = {"type": "exponential", "factor": 1, "jitter_range_in_seconds": 2.5}
"""Mixpanel's advice for 429 and 5xx: start at 2 s and double, plus jitter: 2, 4, 8, 16, 32 s
(``factor * 2**retry``), each plus a uniform 0 to 5 s. Strategies in ``[error_handler]`` win."""

SPEC: Final = DestinationSpec(
    name="mixpanel",
    settings_class=MixpanelSettings,
    max_batch_items=2000,
    default_batch_items=1000,
    max_batch_bytes=10_000_000,
    max_item_bytes=999_999,
    batch_overhead_bytes=ARRAY_OVERHEAD_BYTES,
    batch_key=request_kind,
    default_backoff=(BACKOFF,),
    description="Mixpanel /import (track, page, screen) and, with profiles = true, /engage $set (identify)",
)
"""Mixpanel's limits: 2000 events and 10 MB (uncompressed) per ``/import`` request, events
under 1 MB; ``/engage`` takes 2000 updates per request, each under 1 MB, so one set of limits
serves both kinds, and ``batch_key`` keeps the two kinds in separate requests."""


@hookimpl
def destination_spec() -> DestinationSpec:
    """Name, settings class and batch limits of the Mixpanel destination."""
    return SPEC


@hookimpl
def build_payload(event: Mapping[str, Any], settings: MixpanelSettings) -> dict[str, Any]:
    """One event to one ``/import`` event or ``/engage`` update (see ``payloads``)."""
    return build(event, settings)


@hookimpl
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: MixpanelSettings, http: HttpClient) -> HttpResponse:
    """One ``POST /import?strict=1`` or ``POST /engage``, never retried here."""
    return post_batch(payloads, settings, http)


@hookimpl
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: MixpanelSettings
) -> MultiStatusResponse | None:
    """Per-item results of a 200, and of a 400 that lists ``failed_records``; None otherwise."""
    return item_results(response, payloads)


@hookimpl
def classify_error(
    response: HttpResponse | None, error: BaseException | None, settings: MixpanelSettings
) -> Classification | None:
    """429 and 413 in Mixpanel's words; everything else is the core's default."""
    return None if response is None else classify_response(response)
