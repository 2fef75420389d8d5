"""What a whole-request answer from the Track API means: every status but 2xx.

2xx answers are read item by item by ``parse_response`` (``answers``), which also catches an
answer that cannot be mapped to the items; ``classify_error`` sees only the others.

Transient statuses follow the core's retry rule: 408, 423 and 5xx except 501 are retried, 429
is RATE_LIMITED (every sender slows down).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from deliverator import Action, Classification, ErrorCode, FailureType, HttpResponse, error_text
from deliverator_customerio.settings import REGION_HOSTS, CustomerIOSettings

_MAX_TEXT: Final = 500
_REGION_BY_HOST: Final = {urlsplit(url).hostname: region for region, url in REGION_HOSTS.items()}


def classify_response(response: HttpResponse, settings: CustomerIOSettings) -> Classification | None:
    """The Classification of a whole answer, or None to leave it to the core's status table."""
    status = response.status
    if 200 <= status < 300:
        return None  # read per item by parse_response; reached only when a user filter said SUCCESS
    if 300 <= status < 400:
        return Classification(action=Action.FAIL, status=status, errormessage=_redirect_message(response, settings))
    if status in (401, 403):
        return Classification(
            action=Action.FAIL,
            status=status,
            errortype=ErrorCode.INVALID_AUTHENTICATION,
            errormessage=f"{_status_line(response)}: Customer.io refused the credentials; check site_id, "
            f"api_key and region (sending to {settings.base_url})",
            failure_type=FailureType.CONFIG,
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
