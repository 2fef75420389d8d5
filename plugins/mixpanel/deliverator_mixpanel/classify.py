"""Whole-request answers Mixpanel gives that the core's status table would describe less
well. Everything else (401/403 stop the run as a config error, other 4xx fail every item,
5xx and transport errors are retried) is left to the core's defaults."""

from __future__ import annotations

from deliverator import Action, Classification, ErrorCode, HttpResponse, error_text


def classify_response(response: HttpResponse) -> Classification | None:
    """The Classification of a whole answer, or None to leave it to the core."""
    status = response.status
    if status == 429:
        # Mixpanel's limit is per project and sends no Retry-After: the run's backoff decides
        # (this destination's default: 2 s doubling, plus jitter).
        return Classification(
            action=Action.RATE_LIMITED,
            status=429,
            errortype=ErrorCode.TOO_MANY_REQUESTS,
            errormessage=_describe(response, "the project's rate limit"),
        )
    if status == 413:
        return Classification(
            action=Action.SPLIT,
            status=413,
            errortype=ErrorCode.PAYLOAD_TOO_LARGE,
            errormessage=_describe(response, "Mixpanel's request size limit (the one in force may be under 10 MB)"),
        )
    return None


def _describe(response: HttpResponse, what: str) -> str:
    text = error_text(response)[:300]
    return f"HTTP {response.status}: {text} ({what})" if text else f"HTTP {response.status} ({what})"
