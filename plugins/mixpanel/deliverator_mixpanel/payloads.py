"""One Segment-spec event to one Mixpanel payload.

| event    | payload                                                                     |
|----------|-----------------------------------------------------------------------------|
| track    | ``/import`` event named after ``event``                                     |
| page     | ``/import`` event ``Viewed <name> Page`` (``Loaded a Page`` without a name)  |
| screen   | ``/import`` event ``Viewed <name> Screen`` (``Loaded a Screen`` without one) |
| identify | ignored, or with ``profiles = true`` an ``/engage`` ``$set`` of the traits   |
| group    | ignored (group profiles are not sent)                                       |
| alias    | ignored (Mixpanel merges identities itself from ``$user_id``/``$device_id``) |

An ``/import`` event's properties are the event's ``properties`` plus what Mixpanel requires:
``time`` (ms), ``distinct_id`` (userId, else anonymousId), ``$insert_id`` (see ``insertid``),
and ``$user_id`` / ``$device_id`` for Mixpanel's identity merge. Those keys win over
properties of the same name. The core has already checked the basics (a known type, a user
or anonymous id, ``event`` for track).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from deliverator import IgnoreEvent, PayloadValidationError, TimestampError, parse_timestamp
from deliverator_mixpanel.insertid import insert_id
from deliverator_mixpanel.settings import MixpanelSettings

Payload = dict[str, Any]

TIME_FIELDS: Final = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
"""Where the event's time is looked for, in order: the first one present is used."""

IGNORED_REASONS: Final = {
    "identify": "Mixpanel takes identify as a profile update only with profiles = true",
    "group": "group profiles are not sent to Mixpanel",
    "alias": "Mixpanel merges identities from $user_id and $device_id; alias is not sent",
}


def build(event: Mapping[str, Any], settings: MixpanelSettings) -> Payload:
    """The payload for ``event``; raises ``PayloadValidationError`` or ``IgnoreEvent``."""
    kind = event.get("type")
    if kind == "identify" and settings.profiles:
        return profile_update(event, settings)
    builder = _EVENT_NAMES.get(kind) if isinstance(kind, str) else None
    if builder is None:
        reason = IGNORED_REASONS.get(kind) if isinstance(kind, str) else None
        if reason is not None:
            raise IgnoreEvent(reason)
        raise PayloadValidationError(f"type: Mixpanel cannot take events of type {kind!r}")
    return import_event(event, builder(event))


def import_event(event: Mapping[str, Any], name: str) -> Payload:
    """An ``/import`` event named ``name``."""
    properties = dict(_object(event, "properties"))
    user_id, anonymous_id = _id(event, "userId"), _id(event, "anonymousId")
    properties["time"] = _time_ms(event)
    properties["distinct_id"] = user_id or anonymous_id
    properties["$insert_id"] = insert_id(event)
    if user_id:
        properties["$user_id"] = user_id
    if anonymous_id:
        properties["$device_id"] = anonymous_id
    ip = _object(event, "context").get("ip")
    if isinstance(ip, str) and ip and "ip" not in properties:
        properties["ip"] = ip
    return {"event": name, "properties": properties}


def profile_update(event: Mapping[str, Any], settings: MixpanelSettings) -> Payload:
    """An ``/engage`` ``$set`` of the identify's traits on the user's profile."""
    distinct_id = _id(event, "userId") or _id(event, "anonymousId")
    update: Payload = {"$token": settings.project_token, "$distinct_id": distinct_id}
    ip = _object(event, "context").get("ip")
    if isinstance(ip, str) and ip:
        update["$ip"] = ip
    update["$set"] = dict(_object(event, "traits"))
    return update


def is_profile_update(payload: Mapping[str, Any]) -> bool:
    """Whether ``payload`` goes to ``/engage`` (else it is an ``/import`` event)."""
    return "$distinct_id" in payload


def _track_name(event: Mapping[str, Any]) -> str:
    name = event.get("event")
    if not isinstance(name, str) or not name.strip():
        raise PayloadValidationError("event: track needs a non-empty event name")
    return name


def _viewed(kind: str) -> Callable[[Mapping[str, Any]], str]:
    def name(event: Mapping[str, Any]) -> str:
        value = event.get("name")
        if not isinstance(value, str) or not value.strip():
            value = _object(event, "properties").get("name")
        if isinstance(value, str) and value.strip():
            return f"Viewed {value} {kind}"
        return f"Loaded a {kind}"

    return name


_EVENT_NAMES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "track": _track_name,
    "page": _viewed("Page"),
    "screen": _viewed("Screen"),
}


def _time_ms(event: Mapping[str, Any]) -> int:
    """``properties.time``: always integer milliseconds (the core reads ISO-8601 and epoch
    numbers in s, ms, µs or ns, and refuses times outside 1970 to 9999)."""
    for field in TIME_FIELDS:
        value = event.get(field)
        if value is None or value == "":
            continue
        try:
            return parse_timestamp(value)
        except TimestampError as exc:
            raise PayloadValidationError(f"{field}: {exc}") from None
    # Mixpanel requires a time, and "now" would differ on every re-run, defeating dedup.
    raise PayloadValidationError("timestamp: Mixpanel needs the event's time (timestamp is missing)")


def _id(event: Mapping[str, Any], field: str) -> str | None:
    value = event.get(field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _object(container: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    value = container.get(field)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        # Dropping it silently would alter the event; refusing it says what is wrong.
        raise PayloadValidationError(f"{field}: must be an object, got {type(value).__name__}")
    return value
