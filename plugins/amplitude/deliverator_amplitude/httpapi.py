"""The one request the destination makes: ``POST {base}/2/httpapi``.

The body is ``{"api_key": ..., "options": {"min_id_length": N}, "events": [...]}``: Amplitude
authenticates by the key in the body, so the key leaves its :class:`deliverator.Secret` only
inside :func:`encode_body`, and nothing here puts the body into a message. Amplitude's answer
to a wrong key echoes it (``Invalid API key: <key>``), so :func:`post_events` masks the key in
every answer before the core sees it: it can reach no outcome record, message or log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

import deliverator
from deliverator import HttpClient, HttpResponse, encode_items
from deliverator_amplitude import __version__
from deliverator_amplitude.settings import MAX_API_KEY_CHARS, MAX_MIN_ID_LENGTH, AmplitudeSettings

PATH: Final = "/2/httpapi"
MASK: Final = b"********"
USER_AGENT: Final = f"deliverator/{deliverator.__version__} deliverator-amplitude/{__version__}"


def _prefix(api_key: str, min_id_length: int) -> bytes:
    return b'{"api_key":' + orjson.dumps(api_key) + b',"options":{"min_id_length":%d},"events":[' % min_id_length


SUFFIX: Final = b"]}"
BATCH_OVERHEAD_BYTES: Final = len(_prefix("k" * MAX_API_KEY_CHARS, MAX_MIN_ID_LENGTH)) + len(SUFFIX)
"""The most bytes the envelope adds around the events (a key of the longest length allowed),
so that a batch the core closed at ``max_batch_bytes`` is under the limit whatever the key."""


def encode_body(payloads: Sequence[Mapping[str, Any]], settings: AmplitudeSettings) -> bytes:
    """The request body; ``encode_items`` reuses the events the core already encoded, and writes
    integers beyond 64 bits with their digits."""
    return _prefix(settings.api_key.reveal(), settings.min_id_length) + encode_items(payloads) + SUFFIX


def post_events(payloads: Sequence[Mapping[str, Any]], settings: AmplitudeSettings, http: HttpClient) -> HttpResponse:
    """Exactly one ``POST {base}/2/httpapi``; the core judges the answer and retries."""
    headers = {"Content-Type": "application/json", "Accept": "*/*", "User-Agent": USER_AGENT}
    response = http.post(settings.base_url + PATH, body=encode_body(payloads, settings), headers=headers)
    return masked(response, settings.api_key.reveal())


def masked(response: HttpResponse, key: str) -> HttpResponse:
    """``response`` with every copy of ``key`` in its body replaced by ``********`` (also in
    the JSON form that escapes ``/``)."""
    body = response.body
    forms = {key.encode(), key.replace("/", "\\/").encode()}
    if not key or not any(form in body for form in forms):
        return response
    for form in forms:
        body = body.replace(form, MASK)
    return HttpResponse(status=response.status, headers=response.headers, body=body, reason=response.reason)
