"""What Mixpanel's answers mean for each item.

``/import?strict=1`` answers 200 when every event was imported, and 400 with
``failed_records: [{index, insert_id | $insert_id, field, message}]`` when some failed
validation: those fail, every other event *was* imported. A 400 without such a list is about
the whole request (the core fails every item). A ``failed_records`` entry is matched to the
payload at its ``index`` and cross-checked with its insert id; an entry that matches no payload
makes the answer untrustworthy (we cannot tell which events arrived), so the whole batch is
retried as 502 ``BAD_GATEWAY``, which is safe because every event carries its ``$insert_id``.

``/engage?verbose=1`` answers 200 whatever happened: ``{"status": 1}`` when the updates were
taken, ``{"status": 0, "error": ...}`` when they were not (no per-update detail, so every
update in the batch fails with that message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from deliverator import ErrorCode, ErrorResponse, HttpResponse, MultiStatusResponse, SuccessResponse, parse_body
from deliverator_mixpanel.wire import batch_kind

UNTRUSTWORTHY_STATUS: Final = 502
REFUSED_STATUS: Final = 400


def item_results(response: HttpResponse, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse | None:
    """One entry per payload when the answer speaks per item, else None (whole request)."""
    if batch_kind(payloads) == "engage":
        return _engage_results(response, payloads) if response.status == 200 else None
    if response.status == 200:
        return _all_delivered(payloads, parse_body(response))
    if response.status == 400:
        body = parse_body(response)
        records = body.get("failed_records") if isinstance(body, dict) else None
        if isinstance(records, list) and records:
            return _partial(body, records, payloads)
    return None


def _all_delivered(payloads: Sequence[Mapping[str, Any]], body: Any) -> MultiStatusResponse:
    result = MultiStatusResponse()
    for payload in payloads:
        result.push_success(SuccessResponse(status=200, sent=payload, body=body))
    return result


def _partial(body: Mapping[str, Any], records: list[Any], payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse:
    failed: dict[int, list[Mapping[str, Any]]] = {}
    positions = _positions_by_insert_id(payloads)
    for number, record in enumerate(records):
        index = _record_index(record, payloads, positions)
        if index is None:
            return _untrustworthy(payloads, body, f"failed_records[{number}] matches none of the events sent")
        failed.setdefault(index, []).append(record)
    result = MultiStatusResponse()
    imported = {key: value for key, value in body.items() if key != "failed_records"}
    for index, payload in enumerate(payloads):
        entries = failed.get(index)
        if entries is None:
            result.push_success(SuccessResponse(status=200, sent=payload, body=imported))
            continue
        result.push_error(
            ErrorResponse(
                status=REFUSED_STATUS,
                errortype=ErrorCode.PAYLOAD_VALIDATION_FAILED,
                errormessage="; ".join(_record_message(entry) for entry in entries),
                sent=payload,
                body=entries,
            )
        )
    return result


def _positions_by_insert_id(payloads: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, payload in enumerate(payloads):
        value = _insert_id_of(payload)
        if value is not None:
            positions.setdefault(value, index)
    return positions


def _insert_id_of(payload: Mapping[str, Any]) -> str | None:
    properties = payload.get("properties")
    value = properties.get("$insert_id") if isinstance(properties, Mapping) else None
    return value if isinstance(value, str) and value else None


def _record_index(record: Any, payloads: Sequence[Mapping[str, Any]], positions: Mapping[str, int]) -> int | None:
    """The payload a ``failed_records`` entry is about: its ``index`` when the insert id it
    names (if any) is that payload's, else the payload with that insert id; None when neither
    fits (Segment's plugin trusts the index alone, which misattributes errors)."""
    if not isinstance(record, dict):
        return None
    named = record.get("$insert_id", record.get("insert_id"))
    if not isinstance(named, str) or not named:
        named = None
    index = record.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(payloads):
        index = None
    if index is not None and (named is None or _insert_id_of(payloads[index]) == named):
        return index
    return positions.get(named) if named is not None else None


def _record_message(record: Mapping[str, Any]) -> str:
    field, message = record.get("field"), record.get("message")
    text = message if isinstance(message, str) and message.strip() else "refused by Mixpanel without a message"
    return f"{field}: {text}" if isinstance(field, str) and field else text


def _untrustworthy(payloads: Sequence[Mapping[str, Any]], body: Any, problem: str) -> MultiStatusResponse:
    message = (
        f"Mixpanel's answer cannot be matched to the events sent ({problem}); the whole batch is sent "
        "again ($insert_id makes that safe)"
    )
    return _every_item_fails(payloads, UNTRUSTWORTHY_STATUS, ErrorCode.BAD_GATEWAY, message, body)


def _every_item_fails(
    payloads: Sequence[Mapping[str, Any]], status: int, errortype: ErrorCode, message: str, body: Any
) -> MultiStatusResponse:
    result = MultiStatusResponse()
    for payload in payloads:
        result.push_error(
            ErrorResponse(status=status, errortype=errortype, errormessage=message, sent=payload, body=body)
        )
    return result


def _engage_results(response: HttpResponse, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse:
    body = parse_body(response)
    status = body.get("status") if isinstance(body, dict) else body
    if status in (1, "1", "ok", "OK"):
        return _all_delivered(payloads, body)
    if status in (0, "0"):
        error = body.get("error") if isinstance(body, dict) else None
        text = error if isinstance(error, str) and error else "Mixpanel did not take the profile updates"
        message = f"/engage refused the batch: {text}"
        return _every_item_fails(payloads, REFUSED_STATUS, ErrorCode.PAYLOAD_VALIDATION_FAILED, message, body)
    return _untrustworthy(payloads, body, "/engage answered 200 without a status of 1 or 0")
