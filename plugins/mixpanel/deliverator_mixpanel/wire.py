"""The requests the destination makes: ``POST /import?strict=1`` for events and
``POST /engage?verbose=1`` for profile updates, one per batch.

Both bodies are a JSON array of the payloads, built from the bytes the core already encoded
(so the body is exactly the size the batcher counted). Credentials leave their
:class:`deliverator.Secret` only inside :func:`auth_headers`, and nothing here puts headers
into messages.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

import deliverator
from deliverator import HttpClient, HttpResponse, encode_items
from deliverator_mixpanel import __version__
from deliverator_mixpanel.payloads import is_profile_update
from deliverator_mixpanel.settings import MixpanelSettings

IMPORT_PATH: Final = "/import"
ENGAGE_PATH: Final = "/engage"
USER_AGENT: Final = f"deliverator/{deliverator.__version__} deliverator-mixpanel/{__version__}"
ARRAY_OVERHEAD_BYTES: Final = 2
"""``[`` and ``]`` around the items (the commas between them the core counts itself)."""


def auth_headers(settings: MixpanelSettings) -> dict[str, str]:
    """HTTP Basic auth and our User-Agent. Never log what this returns."""
    user, password = settings.basic_credentials()
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}", "User-Agent": USER_AGENT, "Content-Type": "application/json"}


def import_url(settings: MixpanelSettings) -> str:
    """``{base}/import?strict=1`` (and ``&project_id=`` with a service account)."""
    query = {"strict": "1"}
    if settings.service_account_username is not None and settings.project_id is not None:
        query["project_id"] = settings.project_id
    return f"{settings.base_url}{IMPORT_PATH}?{urlencode(query)}"


def engage_url(settings: MixpanelSettings) -> str:
    """``{base}/engage?verbose=1``: a JSON answer saying whether the updates were taken."""
    return f"{settings.base_url}{ENGAGE_PATH}?verbose=1"


def encode_array(payloads: Sequence[Mapping[str, Any]]) -> bytes:
    """The payloads as one JSON array (``encode_items`` reuses the JSON the core already
    encoded for each payload, and writes integers beyond 64 bits with all their digits)."""
    return b"[" + encode_items(payloads) + b"]"


def batch_kind(payloads: Sequence[Mapping[str, Any]]) -> str:
    """``engage`` or ``import``: which endpoint this batch goes to. The core batches each kind
    apart (``DestinationSpec.batch_key``), so a batch never mixes them."""
    kinds = {ENGAGE_PATH if is_profile_update(payload) else IMPORT_PATH for payload in payloads}
    if len(kinds) > 1:
        raise ValueError("a batch mixes /import events and /engage updates; they need two requests")
    return "engage" if kinds == {ENGAGE_PATH} else "import"


def post_batch(payloads: Sequence[Mapping[str, Any]], settings: MixpanelSettings, http: HttpClient) -> HttpResponse:
    """Exactly one request for ``payloads``; the core classifies and retries. ``/engage`` is
    authenticated by the ``$token`` in each update, so the secret is not sent there."""
    if batch_kind(payloads) == "engage":
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        return http.post(engage_url(settings), body=encode_array(payloads), headers=headers)
    return http.post(import_url(settings), body=encode_array(payloads), headers=auth_headers(settings))
