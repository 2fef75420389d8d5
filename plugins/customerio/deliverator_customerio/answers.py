"""Reading what ``POST /api/v2/batch`` answered, and what it means for each item.

Customer.io answers a batch with 200 ``{}`` (all accepted) or 207
``{"errors": [{"batch_index", "reason", "field", "message"}, ...]}`` (those items refused, all
others accepted); some answers arrive as a JSON string holding that JSON. An answer whose
errors cannot be matched to items (no ``errors`` array on a 207, an entry without an integer
``batch_index``, an index past the end, a body that is not JSON) is untrustworthy: we cannot
tell which items were accepted. The whole batch is then retried as 502 ``BAD_GATEWAY``, which
is safe because event, page and screen items carry deduplication ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from deliverator import ErrorCode, ErrorResponse, HttpResponse, MultiStatusResponse, SuccessResponse, parse_body

UNTRUSTWORTHY_STATUS: Final = 502
"""The status an untrustworthy answer is recorded with: the gateway's answer was bad, and
502 is retryable by default."""

VALIDATION_REASONS: Final = frozenset({"invalid", "required"})
"""``reason`` values that mean the item itself is wrong (``PAYLOAD_VALIDATION_FAILED``)."""

REFUSED_ITEM_STATUS: Final = 400


@attrs.frozen(kw_only=True)
class BatchAnswer:
    """A 2xx answer to a batch: its parsed body and the error entries for each item index.

    ``problem`` says why the answer cannot be trusted; it is None for a usable answer.
    """

    body: Any = None
    errors: Mapping[int, tuple[Mapping[str, Any], ...]] = attrs.field(factory=dict)
    problem: str | None = None


def read_batch_answer(response: HttpResponse) -> BatchAnswer:
    """Group the error entries of a 2xx answer by ``batch_index``, or say why we cannot.

    :func:`item_results` then checks the indexes against the batch.
    """
    status = response.status
    if not response.body.strip():
        if status == 207:
            return BatchAnswer(problem="HTTP 207 with an empty body: no errors array")
        return BatchAnswer()
    body = parse_body(response)
    if not isinstance(body, dict):
        what = "not JSON" if body is None or isinstance(body, str) else f"a JSON {_json_kind(body)}"
        return BatchAnswer(body=body, problem=f"HTTP {status} with a body that is {what}, not an object")
    errors = body.get("errors")
    if errors is None:
        if status == 207:
            return BatchAnswer(body=body, problem="HTTP 207 without an errors array")
        return BatchAnswer(body=body)
    if not isinstance(errors, list):
        return BatchAnswer(body=body, problem=f"HTTP {status} whose errors is a {_json_kind(errors)}, not an array")
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for position, entry in enumerate(errors):
        if not isinstance(entry, dict):
            return BatchAnswer(body=body, problem=f"HTTP {status} whose errors[{position}] is not an object")
        index = entry.get("batch_index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            return BatchAnswer(
                body=body,
                problem=f"HTTP {status} whose errors[{position}] has no batch_index (a whole number ≥ 0)",
            )
        grouped.setdefault(index, []).append(entry)
    return BatchAnswer(body=body, errors={index: tuple(entries) for index, entries in grouped.items()})


def untrustworthy_message(problem: str) -> str:
    """The error message of a batch retried because its answer could not be mapped."""
    return (
        f"Customer.io's answer cannot be matched to the items sent ({problem}); "
        "the whole batch is sent again (deduplication ids make that safe)"
    )


def item_results(answer: BatchAnswer, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse:
    """One entry per payload: delivered, refused (400, with every error entry for it kept), or,
    for an untrustworthy answer, 502 ``BAD_GATEWAY`` for every item so the core re-sends them."""
    problem = answer.problem
    if problem is None and answer.errors:
        last = max(answer.errors)
        if last >= len(payloads):
            problem = f"batch_index {last} is past the end of a batch of {len(payloads)} items"
    result = MultiStatusResponse()
    if problem is not None:
        message = untrustworthy_message(problem)
        for payload in payloads:
            result.push_error(
                ErrorResponse(
                    status=UNTRUSTWORTHY_STATUS,
                    errortype=ErrorCode.BAD_GATEWAY,
                    errormessage=message,
                    sent=payload,
                    body=answer.body,
                )
            )
        return result
    delivered_body = None if answer.errors else answer.body
    for index, payload in enumerate(payloads):
        entries = answer.errors.get(index)
        if entries is None:
            result.push_success(SuccessResponse(status=200, sent=payload, body=delivered_body))
        else:
            result.push_error(
                ErrorResponse(
                    status=REFUSED_ITEM_STATUS,
                    errortype=_errortype(entries),
                    errormessage="; ".join(_entry_message(entry) for entry in entries),
                    sent=payload,
                    body=list(entries),
                )
            )
    return result


def _errortype(entries: Sequence[Mapping[str, Any]]) -> ErrorCode:
    for entry in entries:
        reason = entry.get("reason")
        if isinstance(reason, str) and reason.lower() in VALIDATION_REASONS:
            return ErrorCode.PAYLOAD_VALIDATION_FAILED
    return ErrorCode.UNKNOWN_ERROR


def _entry_message(entry: Mapping[str, Any]) -> str:
    message = entry.get("message")
    if isinstance(message, str) and message.strip():
        return message
    reason = entry.get("reason")
    field = entry.get("field")
    parts = [str(part) for part in (reason, field) if part not in (None, "")]
    return ": ".join(parts) if parts else "refused by Customer.io without a message"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
