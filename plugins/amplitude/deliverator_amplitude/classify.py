"""What a whole answer from ``POST /2/httpapi`` means, when it says nothing per event.

``answers.item_results`` reads 200 and the per-event 400 and 429 answers; everything else
comes here:

- 400 ``Invalid API key`` (or ``missing_field: api_key``), 401: a configuration error that
  stops the run (``INVALID_AUTHENTICATION``); 403 (Amplitude's firewall, a sanctioned region)
  likewise.
- another 400 (``Missing request body``, ``Invalid JSON request body``, a missing request
  field, lists that do not match the batch): every event fails 400 ``BAD_REQUEST``.
- 413: the batch is split in halves (a single event that is still too large fails).
- 429 without per-user detail: the whole batch is retried and the run slows down.
- 408 and 5xx except 501: the whole batch is retried (``insert_id`` makes a re-send of a
  request that was in fact ingested harmless).

Other statuses and transport errors are left to the core's defaults.
"""

from __future__ import annotations

from typing import Final

from deliverator import Action, Classification, ErrorCode, FailureType, HttpResponse
from deliverator_amplitude.answers import json_object
from deliverator_amplitude.settings import AmplitudeSettings

_MAX_TEXT: Final = 300


def classify_response(response: HttpResponse, settings: AmplitudeSettings) -> Classification | None:
    """The Classification of a whole answer, or None to leave it to the core's defaults."""
    status = response.status
    if 200 <= status < 300:
        return Classification(action=Action.SUCCESS)
    if status in (400, 401, 403) and (status != 400 or _is_key_refusal(response)):
        return Classification(
            action=Action.FAIL,
            status=status,
            errortype=ErrorCode.INVALID_AUTHENTICATION,
            failure_type=FailureType.CONFIG,
            errormessage=f"{_describe(response, settings)}: Amplitude refused the request; check api_key and region "
            f"(sending to {settings.base_url})",
        )
    if status == 400:
        return Classification(
            action=Action.FAIL, status=400, errortype=ErrorCode.BAD_REQUEST, errormessage=_describe(response, settings)
        )
    if status == 413:
        return Classification(
            action=Action.SPLIT,
            status=413,
            errortype=ErrorCode.PAYLOAD_TOO_LARGE,
            errormessage=f"{_describe(response, settings)} (Amplitude takes under 1 MB and 2000 events a request)",
        )
    if status == 429:
        return Classification(
            action=Action.RATE_LIMITED,
            status=429,
            errortype=ErrorCode.TOO_MANY_REQUESTS,
            errormessage=_describe(response, settings),
        )
    if status == 408 or (500 <= status < 600 and status != 501):
        return Classification(action=Action.RETRY, status=status, errormessage=_describe(response, settings))
    return None


def _is_key_refusal(response: HttpResponse) -> bool:
    body = json_object(response)
    if body is None:
        return False
    error = body.get("error")
    return body.get("missing_field") == "api_key" or (isinstance(error, str) and "api key" in error.lower())


def _describe(response: HttpResponse, settings: AmplitudeSettings) -> str:
    """``HTTP 400 Bad Request: <error> (missing_field: x)``: a few hundred characters at most of
    what the server said, with the API key masked should the server echo it."""
    text = _summary(response)
    key = settings.api_key.reveal()
    return text.replace(key, "********") if key else text


def _summary(response: HttpResponse) -> str:
    head = f"HTTP {response.status} {response.reason}".rstrip()
    body = json_object(response)
    if body is None:
        text = response.body[:_MAX_TEXT].decode("utf-8", "replace").strip()
        return f"{head}: {text}" if text else head
    error = body.get("error")
    detail = str(error)[:_MAX_TEXT] if error is not None else ""
    missing = body.get("missing_field")
    if isinstance(missing, str):
        detail = f"{detail} (missing_field: {missing[:60]})".strip()
    return f"{head}: {detail}" if detail else head
