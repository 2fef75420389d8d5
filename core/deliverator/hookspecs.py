"""The hook contract (v2) between the core and destination plugins.

Every hook but ``register_commands`` is ``firstresult``: the first implementation that returns
something other than None wins, in plugin order (the destination, then the core defaults,
which are registered ``trylast``). The core always calls hooks with keyword arguments.

One answer is judged in this order: the user's response filters (first match wins), then the
destination's ``parse_response`` (per-item answers), then ``classify_error`` (the destination,
then the core defaults). ``destination_spec``, ``build_payload`` and ``send_batch`` are
required: a destination without one is refused when it loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import click

    from deliverator.classification import Classification
    from deliverator.http import HttpClient, HttpResponse
    from deliverator.multistatus import MultiStatusResponse
    from deliverator.spec import CheckResult, DemoSetup, DestinationSpec

hookspec = pluggy.HookspecMarker("deliverator")
hookimpl = pluggy.HookimplMarker("deliverator")


@hookspec(firstresult=True)
def destination_spec() -> DestinationSpec:
    """Describe the destination: its name, settings class and batch limits.

    Called once per run, before anything is read.
    """


@hookspec(firstresult=True)
def build_payload(event: Mapping[str, Any], settings: Any) -> dict[str, Any]:
    """Map one validated event to the one payload item the destination expects.

    Raise ``PayloadValidationError`` for an event that cannot be sent; it fails with status 400
    and ``PAYLOAD_VALIDATION_FAILED`` and is never retried. Raise ``IgnoreEvent("why")`` for an
    event this destination deliberately does not take; its outcome is ``ignored``. Called once
    per event, not per attempt: the same payload is re-sent on every retry.
    """


@hookspec(firstresult=True)
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse:
    """Send one request carrying ``payloads`` and return the response.

    Make exactly one request and never retry: the core counts and classifies every attempt.
    Transport failures raise ``TransportError`` (the ``http`` client does that for you).
    """


@hookspec(firstresult=True)
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: Any
) -> MultiStatusResponse | None:
    """Say what happened to each payload, for every answer no user response filter matched,
    whatever its status.

    Return one entry per payload, in the same order, when the answer says what happened to
    each item (a 207, or an error status listing the items it refused); return None when the
    answer is about the whole request, and ``classify_error`` decides. A retryable error entry
    sends that item again in a later batch (not sooner than its ``retry_after_s``); an
    ``IgnoredResponse`` ends the item ``ignored``; every other entry is final.
    """


@hookspec(firstresult=True)
def classify_error(response: HttpResponse | None, error: BaseException | None, settings: Any) -> Classification | None:
    """Decide what a whole-request outcome means: SUCCESS, RETRY, RATE_LIMITED, IGNORE, FAIL
    or SPLIT.

    Called for a transport error, or for an answer ``parse_response`` returned None for.
    Exactly one of ``response`` and ``error`` is set. Return None to leave the decision to the
    next implementation. A FAIL with ``failure_type="config"`` stops the run.
    """


@hookspec(firstresult=True)
def check_credentials(settings: Any, http: HttpClient) -> CheckResult | None:
    """Verify the configured credentials against the service for ``deliverator check``.

    Return None when the destination has no way to check.
    """


@hookspec(firstresult=True)
def demo_environment() -> AbstractContextManager[DemoSetup] | None:
    """Offer a self-contained demo for ``deliverator demo``: a context manager that starts a
    local stand-in of the service and yields a :class:`DemoSetup`, stopping it on exit."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``deliverator`` command line (e.g. an emulator).

    Not ``firstresult``: every destination's implementation is called. Called only when a
    command that the core does not know is invoked, so that ordinary runs never import plugin
    code for it.
    """
