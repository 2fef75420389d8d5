"""One Segment-spec event to one Amplitude HTTP V2 event.

| event    | Amplitude event                                                           |
|----------|---------------------------------------------------------------------------|
| track    | ``event_type`` = event, ``event_properties`` = properties                 |
| page     | ``event_type`` = ``Viewed <name> Page`` (``Loaded a Page`` unnamed)        |
| screen   | ``event_type`` = ``Viewed <name> Screen`` (``Loaded a Screen`` unnamed)    |
| identify | ``event_type`` = ``$identify``, ``user_properties`` = ``{"$set": traits}`` |
| group    | ignored (a Segment group carries no Amplitude group type)                 |
| alias    | ignored (the HTTP V2 API has no alias; user mapping is another API)        |

Every event carries ``user_id`` and/or ``device_id`` (``identity``), ``insert_id``
(``insertids``), ``time`` in ms when the event has one (``times``) and a few device fields
from ``context``. The core has already checked the basics (a known type, a user or anonymous
id, ``event`` for track); the rest raises :class:`deliverator.PayloadValidationError` naming
the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from deliverator import IgnoreEvent, PayloadValidationError
from deliverator_amplitude.identity import identities, mapping
from deliverator_amplitude.insertids import insert_id
from deliverator_amplitude.settings import AmplitudeSettings
from deliverator_amplitude.times import event_time_ms

Event = dict[str, Any]

IDENTIFY_EVENT_TYPE: Final = "$identify"

CONTEXT_FIELDS: Final = (
    (("ip",), "ip"),
    (("locale",), "language"),
    (("app", "version"), "app_version"),
    (("os", "name"), "os_name"),
    (("os", "version"), "os_version"),
    (("device", "manufacturer"), "device_manufacturer"),
    (("device", "model"), "device_model"),
)
"""``context`` paths copied to Amplitude's event fields, when they hold a string."""

GROUP_REASON: Final = (
    "Amplitude groups need a group type (the event's groups field, or $groupidentify), which a Segment "
    "group call does not carry: group calls are not sent"
)
ALIAS_REASON: Final = (
    "Amplitude's HTTP V2 API has no alias (merging users is the separate User Mapping API): alias calls are not sent"
)


def build_event(event: Mapping[str, Any], settings: AmplitudeSettings) -> Event:
    """The Amplitude event for ``event``; raises ``IgnoreEvent`` for group and alias and
    ``PayloadValidationError`` for what cannot be mapped."""
    kind = event.get("type")
    if kind == "group":
        raise IgnoreEvent(GROUP_REASON)
    if kind == "alias":
        raise IgnoreEvent(ALIAS_REASON)
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise PayloadValidationError(
            f"type: Amplitude cannot take events of type {kind!r} (expected one of {', '.join(sorted(_BUILDERS))})"
        )
    item: Event = {}
    builder(event, item)
    item.update(identities(event, settings.min_id_length))
    item["insert_id"] = insert_id(event)
    time_ms = event_time_ms(event)
    if time_ms is not None:
        item["time"] = time_ms
    _copy_context(mapping(event, "context"), item)
    return item


def _track(event: Mapping[str, Any], item: Event) -> None:
    name = _text(event, "event")
    if name is None:
        raise PayloadValidationError("event: required, a non-empty string")
    item["event_type"] = name
    item["event_properties"] = dict(mapping(event, "properties"))


def _page(event: Mapping[str, Any], item: Event) -> None:
    _view(event, item, "Page")


def _screen(event: Mapping[str, Any], item: Event) -> None:
    _view(event, item, "Screen")


def _view(event: Mapping[str, Any], item: Event, what: str) -> None:
    properties = mapping(event, "properties")
    name = _text(event, "name") or _text(properties, "name", "properties.name")
    item["event_type"] = f"Viewed {name} {what}" if name else f"Loaded a {what}"
    item["event_properties"] = dict(properties)


def _identify(event: Mapping[str, Any], item: Event) -> None:
    item["event_type"] = IDENTIFY_EVENT_TYPE
    item["user_properties"] = {"$set": dict(mapping(event, "traits"))}


_BUILDERS: Final[dict[str, Callable[[Mapping[str, Any], Event], None]]] = {
    "identify": _identify,
    "page": _page,
    "screen": _screen,
    "track": _track,
}


def _copy_context(context: Mapping[str, Any], item: Event) -> None:
    for path, field in CONTEXT_FIELDS:
        value: Any = context
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            item[field] = value


def _text(container: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
    value = container.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise PayloadValidationError(f"{where or key} must be a string, got {type(value).__name__}")
