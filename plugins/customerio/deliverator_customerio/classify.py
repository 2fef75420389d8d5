"""What a whole answer from the Track API means, before any item is looked at.

The core calls ``classify_error`` first and ``parse_response`` only on SUCCESS, so the check
that a 200/207 can be mapped to items lives here too: an unmappable answer is retried as 502
``BAD_GATEWAY`` instead of being read as "everything arrived".

Transient statuses follow the core's retry rule: 408, 423 and 5xx except 501 are retried, 429
is RATE_LIMITED (every sender slows down).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from deliverator import Action, Classification, ErrorCode, HttpResponse
from deliverator.responsetext import error_text
from deliverator_customerio.answers import UNTRUSTWORTHY_STATUS, read_batch_answer, untrustworthy_message
from deliverator_customerio.settings import REGION_HOSTS, CustomerIOSettings

_MAX_TEXT: Final = 500
_REGION_BY_HOST: Final = {urlsplit(url).hostname: region for region, url in REGION_HOSTS.items()}


def classify_response(response: HttpResponse, settings: CustomerIOSettings) -> Classification | None:
    """The Classification of a whole answer, or None to leave it to the core's status table."""
    status = response.status
    if 200 <= status < 300:
        problem = read_batch_answer(response).problem
        if problem is None:
            return Classification(action=Action.SUCCESS)
        return Classification(
            action=Action.RETRY,
            status=UNTRUSTWORTHY_STATUS,
            errortype=ErrorCode.BAD_GATEWAY,
            errormessage=untrustworthy_message(problem),
        )
    if 300 <= status < 400:
        return Classification(action=Action.FAIL, status=status, errormessage=_redirect_message(response, settings))
    if status in (401, 403):
        return Classification(
            action=Action.FAIL,
            status=status,
            errortype=ErrorCode.INVALID_AUTHENTICATION,
            errormessage=f"{_status_line(response)}: Customer.io refused the credentials; check site_id, "
            f"api_key and region (sending to {settings.base_url})",
        )
    if status == 413:
        return Classification(
            action=Action.SPLIT,
            status=413,
            errortype=ErrorCode.PAYLOAD_TOO_LARGE,
            errormessage=f"{_describe(response)} (Customer.io takes batches under 500,000 bytes "
            "and items up to 32,000 bytes)",
        )
    if status == 429:
        return Classification(
            action=Action.RATE_LIMITED,
            status=429,
            errortype=ErrorCode.TOO_MANY_REQUESTS,
            errormessage=_describe(response),
        )
    if status in (408, 423) or (500 <= status < 600 and status != 501):
        return Classification(action=Action.RETRY, status=status, errormessage=_describe(response))
    if 400 <= status < 600:
        return Classification(
            action=Action.FAIL,
            status=status,
            errortype=ErrorCode.for_status(status),
            errormessage=_describe(response),
        )
    return None


def _redirect_message(response: HttpResponse, settings: CustomerIOSettings) -> str:
    location = response.headers.get("Location", "")
    target = _REGION_BY_HOST.get(urlsplit(location).hostname) if location else None
    where = f" to {location[:200]}" if location else ""
    head = f"{_status_line(response)}: Customer.io redirected the request{where}"
    if target is not None and target != settings.region:
        return (
            f'{head}: the account lives in the {target.upper()} region; set region = "{target}" '
            "(a redirect is never followed: the data would transit another region)"
        )
    return (
        f"{head}: the account lives in another region than the one configured "
        f'(region = "{settings.region}"{", endpoint = " + settings.endpoint if settings.endpoint else ""}); '
        "check region and endpoint"
    )


def _status_line(response: HttpResponse) -> str:
    return f"HTTP {response.status} {response.reason}".rstrip()


def _describe(response: HttpResponse) -> str:
    text = error_text(response)
    return f"{_status_line(response)}: {text[:_MAX_TEXT]}" if text else _status_line(response)
