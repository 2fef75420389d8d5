"""A small authenticated client for the emulator's endpoints, for tests and scripts that talk
to it directly rather than through the destination plugin."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson

from deliverator import HttpClient, HttpResponse
from deliverator_customerio.emulator.api import BATCH_PATH, ENTITY_PATH, REGION_PATH


def basic_auth(site_id: str, api_key: str) -> str:
    """The ``Authorization`` header value for Track API credentials."""
    return "Basic " + base64.b64encode(f"{site_id}:{api_key}".encode()).decode("ascii")


class EmulatorClient:
    """Requests to one base URL as one account, over a :class:`deliverator.HttpClient`.

    Bodies given as ``bytes`` are sent as they are (to test malformed input); anything else is
    encoded as JSON.
    """

    def __init__(self, http: HttpClient, url: str, site_id: str, api_key: str) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self._headers = {"Authorization": basic_auth(site_id, api_key), "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"EmulatorClient(url={self.url!r})"

    def post(self, path: str, body: Any) -> HttpResponse:
        """POST ``body`` to ``path``."""
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.http.post(self.url + path, body=data, headers=self._headers)

    def batch(self, items: Sequence[Any]) -> HttpResponse:
        """``POST /api/v2/batch`` with ``{"batch": items}``."""
        return self.post(BATCH_PATH, {"batch": list(items)})

    def entity(self, item: Any) -> HttpResponse:
        """``POST /api/v2/entity`` with one item."""
        return self.post(ENTITY_PATH, item)

    def region(self) -> HttpResponse:
        """``GET /api/v1/accounts/region``."""
        return self.http.get(self.url + REGION_PATH, headers=self._headers)
