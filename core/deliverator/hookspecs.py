"""The hook contract between the core and destination plugins.

Every hook is ``firstresult``: the first implementation that returns something other than
None wins, in plugin order (the user's error handler first, then the destination, then the
core defaults). The core always calls hooks with keyword arguments.
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
    and ``PAYLOAD_VALIDATION_FAILED`` and is never retried. Called once per event, not per
    attempt: the same payload is re-sent on every retry.
    """


@hookspec(firstresult=True)
def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse:
    """Send one request carrying ``payloads`` and return the response.

    Make exactly one request and never retry: the core counts and classifies every attempt.
    Transport failures raise ``TransportError`` (the ``http`` client does that for you).
    """


@hookspec(firstresult=True)
def parse_response(response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: Any) -> MultiStatusResponse:
    """Say what happened to each payload of a request classified SUCCESS.

    Return one entry per payload, in the same order. A retryable error entry sends that item
    again in a later batch; every other entry is final.
    """


@hookspec(firstresult=True)
def classify_error(response: HttpResponse | None, error: BaseException | None, settings: Any) -> Classification | None:
    """Decide what a whole-request outcome means: SUCCESS, RETRY, RATE_LIMITED, IGNORE, FAIL
    or SPLIT.

    Exactly one of ``response`` and ``error`` is set. Return None to leave the decision to the
    next implementation.
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

    Called only when a command that the core does not know is invoked, or for
    ``deliverator plugin-commands``, so that ordinary runs never import plugin code for it.
    """
