"""What the HTTP V2 API documents about a request and its events, as checks.

Request level (a whole-request 400): a JSON object body with ``api_key`` (a string) and
``events`` (an array of objects); ``options.min_id_length``, when given, a whole number.

Event level (the event's index listed by field in a 400; nothing is ingested):

- ``event_type``: required, a non-empty string.
- ``user_id`` / ``device_id``: strings; one is required. An id shorter than ``min_id_length``
  is removed from the event (not refused); an event left with neither is listed in
  ``events_with_invalid_id_lengths``. Placeholder ids (``null``, ``anonymous``, ``0``, ``-1``,
  the all-zero UUID, ...) are invalid.
- ``time``, ``session_id``, ``event_id``: whole numbers (``time`` in ms since the epoch).
- ``insert_id`` and the device and location fields: strings.
- ``event_properties``, ``user_properties``, ``groups``, ``group_properties``: objects.
  ``user_properties`` either holds operations (``$set``, ``$setOnce``, ...; each an object) or
  plain properties, never both; ``$identify`` events need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from deliverator_amplitude.emulator.limits import DEFAULT_MIN_ID_LENGTH

PLACEHOLDER_IDS: Final = frozenset(
    {
        "anonymous",
        "null",
        "none",
        "nil",
        "undefined",
        "unknown",
        "0",
        "-1",
        "[]",
        "{}",
        "00000000-0000-0000-0000-000000000000",
        "lmy47d",
        "<nil>",
    }
)
"""Ids Amplitude refuses as obviously not an id (compared case-insensitively)."""

STRING_FIELDS: Final = (
    "insert_id",
    "app_version",
    "platform",
    "os_name",
    "os_version",
    "device_brand",
    "device_manufacturer",
    "device_model",
    "carrier",
    "country",
    "region",
    "city",
    "dma",
    "language",
    "ip",
    "idfa",
    "idfv",
    "adid",
    "android_id",
    "library",
    "partner_id",
)
INTEGER_FIELDS: Final = ("time", "session_id", "event_id")
OBJECT_FIELDS: Final = ("event_properties", "user_properties", "groups", "group_properties")
USER_PROPERTY_OPERATIONS: Final = frozenset(
    {"$set", "$setOnce", "$add", "$append", "$prepend", "$unset", "$preInsert", "$postInsert", "$remove"}
)
ID_FIELDS: Final = ("user_id", "device_id")


@attrs.frozen(kw_only=True)
class Upload:
    """A request that passed the request-level checks."""

    api_key: str = attrs.field(repr=False)
    events: list[Any]
    min_id_length: int


@attrs.frozen(kw_only=True)
class RequestProblem:
    """Why a request is refused as a whole: Amplitude's ``error`` text and ``missing_field``."""

    error: str
    missing_field: str | None = None


@attrs.frozen(kw_only=True)
class EventCheck:
    """One event's verdict: the fields it has wrong, lacks, or lost to ``min_id_length``, and
    the event as it would be stored (short ids removed)."""

    invalid: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    id_lengths: tuple[str, ...] = ()
    cleaned: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong with the event."""
        return not (self.invalid or self.missing or self.id_lengths)


def check_request(value: Any) -> Upload | RequestProblem:
    """The request-level checks on a parsed body."""
    if not isinstance(value, dict):
        return RequestProblem(error="Invalid JSON request body")
    api_key = value.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        return RequestProblem(error="Request missing required field", missing_field="api_key")
    events = value.get("events")
    if events is None:
        return RequestProblem(error="Request missing required field", missing_field="events")
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        return RequestProblem(error="Invalid event JSON")
    options = value.get("options")
    min_id_length: Any = DEFAULT_MIN_ID_LENGTH
    if options is not None:
        if not isinstance(options, dict):
            return RequestProblem(error="Invalid JSON request body")
        min_id_length = options.get("min_id_length", DEFAULT_MIN_ID_LENGTH)
        if isinstance(min_id_length, bool) or not isinstance(min_id_length, int) or min_id_length < 1:
            return RequestProblem(error="Invalid JSON request body")
    return Upload(api_key=api_key, events=events, min_id_length=min_id_length)


def check_event(event: Mapping[str, Any], min_id_length: int) -> EventCheck:
    """The event-level checks on one event (an object)."""
    invalid: list[str] = []
    missing: list[str] = []
    cleaned = dict(event)
    event_type = event.get("event_type")
    if event_type is None:
        missing.append("event_type")
    elif not isinstance(event_type, str) or not event_type:
        invalid.append("event_type")
    removed: list[str] = []
    for field in ID_FIELDS:
        if field not in event or event[field] is None:
            cleaned.pop(field, None)
            continue
        value = event[field]
        if not isinstance(value, str) or value.strip().lower() in PLACEHOLDER_IDS:
            invalid.append(field)
        elif len(value) < min_id_length:
            removed.append(field)
            del cleaned[field]
    invalid.extend(_type_errors(event))
    id_lengths: list[str] = []
    if not invalid and not any(field in cleaned for field in ID_FIELDS):
        if removed:
            id_lengths.extend(removed)
        else:
            missing.extend(ID_FIELDS)
    if event_type == "$identify" and event.get("user_properties") is None:
        missing.append("user_properties")
    return EventCheck(invalid=tuple(invalid), missing=tuple(missing), id_lengths=tuple(id_lengths), cleaned=cleaned)


def _type_errors(event: Mapping[str, Any]) -> list[str]:
    wrong = [field for field in STRING_FIELDS if field in event and not isinstance(event[field], str)]
    for field in INTEGER_FIELDS:
        value = event.get(field)
        if field in event and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            wrong.append(field)
    wrong.extend(field for field in OBJECT_FIELDS if field in event and not isinstance(event[field], dict))
    user_properties = event.get("user_properties")
    if isinstance(user_properties, dict) and not _user_properties_ok(user_properties):
        wrong.append("user_properties")
    return wrong


def _user_properties_ok(user_properties: Mapping[str, Any]) -> bool:
    operations = [key for key in user_properties if key.startswith("$")]
    if not operations:
        return True
    if len(operations) != len(user_properties):
        return False  # operations mixed with plain properties
    return all(key in USER_PROPERTY_OPERATIONS and isinstance(user_properties[key], dict) for key in operations)
