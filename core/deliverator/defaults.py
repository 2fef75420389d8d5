"""The core's own hook implementations, registered ``trylast``: what happens when neither the
user's error handler nor the destination has an opinion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deliverator.classification import Action, Classification, FailureType
from deliverator.errorcodes import ErrorCode, is_retryable_status
from deliverator.hookspecs import hookimpl
from deliverator.http import HttpResponse, TransportError
from deliverator.multistatus import MultiStatusResponse
from deliverator.responsetext import body_for_outcome, error_text

_MAX_MESSAGE = 500


@hookimpl(trylast=True)
def parse_response(
    response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: Any
) -> MultiStatusResponse | None:
    """No per-item reading: the answer is about the whole request, and ``classify_error``
    decides (a SUCCESS then delivers every item with the request's status)."""
    return None


def all_delivered(response: HttpResponse, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse:
    """Every item delivered with the whole request's status and body: what a whole-request
    SUCCESS means."""
    result = MultiStatusResponse()
    body = body_for_outcome(response, _MAX_MESSAGE)
    for payload in payloads:
        result.push_success(status=response.status, sent=payload, body=body)
    return result


@hookimpl(trylast=True)
def classify_error(response: HttpResponse | None, error: BaseException | None, settings: Any) -> Classification:
    """Segment's rule: 2xx succeed; 408, 423, 429 and 5xx except 501 are retried (429 as
    RATE_LIMITED); a redirect is never a delivery; other statuses fail; transport errors are
    retried. Two additions: a 413 splits the batch, since a smaller request may well pass; 401
    and 403 are configuration failures that stop the run, since every further request would be
    refused the same way."""
    if response is None:
        return classify_exception(error)
    status = response.status
    if 200 <= status < 300:
        return Classification(action=Action.SUCCESS)
    if status == 429:
        return Classification(action=Action.RATE_LIMITED, errormessage=describe_response(response))
    if status in (401, 403):
        return Classification(
            action=Action.FAIL,
            status=status,
            errortype=ErrorCode.INVALID_AUTHENTICATION if status == 401 else ErrorCode.for_status(status),
            errormessage=f"{describe_response(response)} (the destination refused the credentials: check the settings)",
            failure_type=FailureType.CONFIG,
        )
    if is_retryable_status(status):
        return Classification(action=Action.RETRY, errormessage=describe_response(response))
    if status == 413:
        return Classification(
            action=Action.SPLIT,
            status=413,
            errortype=ErrorCode.PAYLOAD_TOO_LARGE,
            errormessage=describe_response(response),
        )
    if 300 <= status < 400:
        location = response.headers.get("Location")
        where = f" to {location}" if location else ""
        return Classification(
            action=Action.FAIL,
            errormessage=f"the destination redirected the request{where} (HTTP {status}); "
            "a redirect is not a delivery: check the endpoint",
        )
    return Classification(action=Action.FAIL, errormessage=describe_response(response))


def classify_exception(error: BaseException | None) -> Classification:
    """Transport failures are retried as 502/504; anything else is a failure we cannot explain."""
    if isinstance(error, TransportError):
        status = 504 if error.kind == "timeout" else 502
        return Classification(
            action=Action.RETRY,
            status=status,
            errortype=ErrorCode.for_status(status),
            errormessage=str(error),
        )
    name = type(error).__name__ if error is not None else "no response"
    return Classification(
        action=Action.FAIL,
        status=500,
        errortype=ErrorCode.UNKNOWN_ERROR,
        errormessage=f"sending failed: {name}: {error}",
    )


def describe_response(response: HttpResponse) -> str:
    """A short message for a whole-request failure: the status and the body's error text."""
    text = error_text(response)
    reason = f" {response.reason}" if response.reason else ""
    if text:
        return f"HTTP {response.status}{reason}: {text[:_MAX_MESSAGE]}"
    return f"HTTP {response.status}{reason}"
