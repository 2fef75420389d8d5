"""The two requests the destination makes: one batch POST, and the credentials check.

Both go through the core's ``HttpClient`` (one pool, timeouts, no retries, no redirects). The
API key leaves its :class:`deliverator.Secret` only inside :func:`auth_headers`, to build the
Basic auth header, and nothing here puts headers into messages.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

import deliverator
from deliverator import HttpClient, HttpResponse, encode_items
from deliverator_customerio import __version__
from deliverator_customerio.settings import CustomerIOSettings

BATCH_PATH: Final = "/api/v2/batch"
REGION_PATH: Final = "/api/v1/accounts/region"
USER_AGENT: Final = f"deliverator/{deliverator.__version__} deliverator-customerio/{__version__}"

BATCH_PREFIX: Final = b'{"batch":['
BATCH_SUFFIX: Final = b"]}"
BATCH_OVERHEAD_BYTES: Final = len(BATCH_PREFIX) + len(BATCH_SUFFIX)
"""Bytes the envelope adds around the items; equal to ``len(b'{"batch":[]}')``."""


def auth_headers(settings: CustomerIOSettings) -> dict[str, str]:
    """HTTP Basic auth (Site ID : API key) and our User-Agent. Never log what this returns."""
    token = base64.b64encode(f"{settings.site_id}:{settings.api_key.reveal()}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}", "User-Agent": USER_AGENT}


def encode_batch(payloads: Sequence[Mapping[str, Any]]) -> bytes:
    """``{"batch":[...]}`` with each item encoded on its own, so the body is exactly the
    envelope plus the item sizes the core's batcher counted, plus one comma between items.
    ``encode_items`` reuses the JSON the core already encoded for each item."""
    try:
        return BATCH_PREFIX + encode_items(payloads) + BATCH_SUFFIX
    except TypeError:
        # Payloads that the core did not encode (a test's plain list) with an integer beyond 64 bits.
        return BATCH_PREFIX + b",".join(_encode_item(item) for item in payloads) + BATCH_SUFFIX


def _encode_item(item: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(item)
    except TypeError:
        # orjson refuses integers beyond 64 bits; the standard library writes them.
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def post_batch(payloads: Sequence[Mapping[str, Any]], settings: CustomerIOSettings, http: HttpClient) -> HttpResponse:
    """Exactly one ``POST {base}/api/v2/batch``; the core classifies and retries."""
    headers = auth_headers(settings)
    headers["Content-Type"] = "application/json"
    return http.post(settings.base_url + BATCH_PATH, body=encode_batch(payloads), headers=headers)


def get_region(settings: CustomerIOSettings, http: HttpClient) -> HttpResponse:
    """``GET {base}/api/v1/accounts/region``: which region and workspace the credentials are for."""
    headers = auth_headers(settings)
    headers["Accept"] = "application/json"
    return http.get(settings.base_url + REGION_PATH, headers=headers)
