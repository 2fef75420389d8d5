"""What an answer of ``POST /2/httpapi`` means for each event of the batch.

Amplitude rejects a whole request on 400 and 429, but says which events were at fault:

- 200: every event ingested.
- 400 with ``events_with_invalid_fields`` / ``events_with_missing_fields`` /
  ``events_with_invalid_id_lengths`` (field -> indices) or ``silenced_events`` (indices):
  nothing was ingested. The listed events fail (400 ``PAYLOAD_VALIDATION_FAILED``, the fields
  named); every other event is retryable (``RETRYABLE_ERROR``) and is sent again.
- 429 with ``throttled_events`` (indices), ``throttled_users`` / ``throttled_devices`` (id ->
  events/s): nothing was ingested. The throttled users' and devices' events are re-sent no
  sooner than 30 s (``retry_after_s``); events of users over their daily quota
  (``exceeded_daily_quota_*``) no sooner than 24 h; the others at once. This is per item, not a
  whole-request RATE_LIMITED, so the run does not slow down for the other users.

Anything else, or an answer whose lists cannot be matched to the batch, is about the whole
request: :func:`item_results` returns None and ``classify`` decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from deliverator import ErrorCode, ErrorResponse, HttpResponse, MultiStatusResponse, SuccessResponse

THROTTLE_PAUSE_S: Final = 30.0
"""Amplitude's guidance: pause a throttled user or device for 30 s."""
DAILY_QUOTA_PAUSE_S: Final = 86_400.0
"""A user or device over its daily quota is refused for a rolling 24 h."""

REFUSAL_MAPS: Final = (
    ("events_with_invalid_fields", "invalid"),
    ("events_with_missing_fields", "missing"),
    ("events_with_invalid_id_lengths", "too short"),
)


def item_results(response: HttpResponse, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse | None:
    """One entry per payload when the answer says what happened to each, else None."""
    status = response.status
    if 200 <= status < 300:
        body = json_object(response)
        result = MultiStatusResponse()
        for payload in payloads:
            result.push_success(SuccessResponse(status=status, sent=payload, body=body))
        return result
    body = json_object(response)
    if body is None:
        return None
    if status == 400:
        return _refused(body, payloads)
    if status == 429:
        return _throttled(body, payloads)
    return None


def json_object(response: HttpResponse) -> dict[str, Any] | None:
    """The body as a JSON object, or None (empty, not JSON, another JSON type)."""
    try:
        value = orjson.loads(response.body) if response.body else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _refused(body: Mapping[str, Any], payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse | None:
    count = len(payloads)
    problems: dict[int, list[str]] = {}
    for key, what in REFUSAL_MAPS:
        fields = _field_indices(body.get(key), count)
        if fields is None:
            return None
        for field, indices in fields.items():
            for index in indices:
                problems.setdefault(index, []).append(f"{field} {what}")
    silenced = _indices(body.get("silenced_events"), count)
    if silenced is None:
        return None
    for index in silenced:
        problems.setdefault(index, []).append("device silenced by Amplitude (spam protection)")
    if not problems:
        return None
    result = MultiStatusResponse()
    others = (
        f"not ingested: Amplitude refused the whole request because of {len(problems)} other event(s) in it; "
        "sent again without them"
    )
    for index, payload in enumerate(payloads):
        found = problems.get(index)
        if found is None:
            result.push_error(
                ErrorResponse(status=400, errortype=ErrorCode.RETRYABLE_ERROR, errormessage=others, sent=payload)
            )
        else:
            result.push_error(
                ErrorResponse(
                    status=400,
                    errortype=ErrorCode.PAYLOAD_VALIDATION_FAILED,
                    errormessage="Amplitude refused the event: " + "; ".join(found),
                    sent=payload,
                    body={"error": body.get("error"), "problems": found},
                )
            )
    return result


def _throttled(body: Mapping[str, Any], payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse | None:
    count = len(payloads)
    events = _indices(body.get("throttled_events"), count)
    users = _rates(body.get("throttled_users"))
    devices = _rates(body.get("throttled_devices"))
    quota_users = _rates(body.get("exceeded_daily_quota_users"))
    quota_devices = _rates(body.get("exceeded_daily_quota_devices"))
    if events is None or users is None or devices is None or quota_users is None or quota_devices is None:
        return None
    if not (events or users or devices or quota_users or quota_devices):
        return None
    threshold = body.get("eps_threshold")
    limit = f" (Amplitude's limit is {threshold} events/s)" if isinstance(threshold, int | float) else ""
    result = MultiStatusResponse()
    for index, payload in enumerate(payloads):
        user, device = payload.get("user_id"), payload.get("device_id")
        if user in quota_users or device in quota_devices:
            who = f"user {user!r}" if user in quota_users else f"device {device!r}"
            result.push_error(
                ErrorResponse(
                    status=429,
                    errortype=ErrorCode.TOO_MANY_REQUESTS,
                    errormessage=f"{who} is over its daily quota; Amplitude takes no more of its events for 24 h",
                    sent=payload,
                    body={"exceeded_daily_quota": who},
                    retry_after_s=DAILY_QUOTA_PAUSE_S,
                )
            )
        elif user in users or device in devices or index in events:
            who, rate = _who(user, device, users, devices)
            result.push_error(
                ErrorResponse(
                    status=429,
                    errortype=ErrorCode.TOO_MANY_REQUESTS,
                    errormessage=f"throttled: {who}{rate}{limit}; sent again in {THROTTLE_PAUSE_S:g} s",
                    sent=payload,
                    body={"throttled": who, "eps_threshold": threshold},
                    retry_after_s=THROTTLE_PAUSE_S,
                )
            )
        else:
            result.push_error(
                ErrorResponse(
                    status=429,
                    errortype=ErrorCode.RETRYABLE_ERROR,
                    errormessage="not ingested: Amplitude refused the whole request because other users or devices "
                    "in it were throttled; sent again at once",
                    sent=payload,
                )
            )
    return result


def _who(user: Any, device: Any, users: Mapping[str, float], devices: Mapping[str, float]) -> tuple[str, str]:
    if user in users:
        return f"user {user!r}", f" sent {users[user]:g} events/s"
    if device in devices:
        return f"device {device!r}", f" sent {devices[device]:g} events/s"
    return "the event's user or device", ""


def _indices(value: Any, count: int) -> list[int] | None:
    """A list of indices within the batch ([] when absent), or None when malformed. A single
    index is accepted too (older HTTP V2 pages say the maps hold "the index of the first event")."""
    if value is None:
        return []
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        return None
    for index in value:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            return None
    return value


def _field_indices(value: Any, count: int) -> dict[str, list[int]] | None:
    """A field -> indices map ({} when absent), or None when malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return None
    fields: dict[str, list[int]] = {}
    for field, indices in value.items():
        checked = _indices(indices, count)
        if checked is None:
            return None
        fields[str(field)] = checked
    return fields


def _rates(value: Any) -> dict[str, float] | None:
    """An id -> number map ({} when absent), or None when malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return None
    rates: dict[str, float] = {}
    for key, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            return None
        rates[str(key)] = float(rate)
    return rates
