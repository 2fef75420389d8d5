"""One Segment-spec event to one Track API v2 batch item.

| event    | item                                                                  |
|----------|-----------------------------------------------------------------------|
| identify | person ``identify``: traits as attributes                             |
| track    | person ``event``: ``name`` = event, properties as attributes          |
| page     | person ``page``: ``name`` = properties.url, else the page name         |
| screen   | person ``screen``: ``name`` = the screen name                         |
| group    | object ``identify`` (or ``identify_anonymous``) related to the user   |
| alias    | person ``merge``: previousId merged into userId                       |

The core has already checked the basics (a known type, a user or anonymous id, ``event`` for
track, ``groupId`` for group, ``previousId`` for alias); what it cannot know about Customer.io
raises :class:`deliverator.PayloadValidationError` naming the field. This runs once per event
on the hot path: no deep copies, no per-call regex compiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from deliverator import PayloadValidationError
from deliverator_customerio.dedup import dedup_id
from deliverator_customerio.identifiers import id_value, known_person, person_identifiers
from deliverator_customerio.settings import CustomerIOSettings
from deliverator_customerio.timestamps import (
    TimestampError,
    convert_nested_timestamps,
    to_event_ms,
    to_unix_seconds,
)

Item = dict[str, Any]

TIME_FIELDS: Final = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
"""Where an event's time is looked for, in order: the first one present is used."""

DEFAULT_OBJECT_TYPE_ID: Final = "1"
"""Customer.io numbers object types from 1; a workspace's first type is usually the company."""


def build_item(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    """The batch item for ``event``; raises ``PayloadValidationError`` if it cannot be mapped."""
    kind = event.get("type")
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise PayloadValidationError(
            f"type: Customer.io cannot take events of type {kind!r} (expected one of {', '.join(sorted(_BUILDERS))})"
        )
    return builder(event, settings)


def event_time_ms(event: Mapping[str, Any]) -> int | None:
    """The event's time in ms from the first of :data:`TIME_FIELDS` present, or None."""
    for field in TIME_FIELDS:
        value = event.get(field)
        if value is None or value == "":
            continue
        try:
            return to_event_ms(value)
        except TimestampError as exc:
            raise PayloadValidationError(f"{field}: {exc}") from None
    return None


def _identify(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    traits = _object(event, "traits")
    attributes = _attributes(traits, settings)
    _move_created_at(traits, attributes)
    anonymous_id = id_value(event, "anonymousId")
    identifiers = _person(event, _email(traits), anonymous_id)
    if anonymous_id and "anonymous_id" not in identifiers and "anonymous_id" not in attributes:
        # Lets Customer.io attach the person's earlier anonymous activity to the profile.
        attributes["anonymous_id"] = anonymous_id
    item: Item = {"type": "person", "action": "identify", "identifiers": identifiers}
    time_ms = event_time_ms(event)
    if time_ms is not None:
        item["timestamp"] = time_ms // 1000
    item["attributes"] = attributes
    return item


def _track(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    return _person_event(event, settings, "event", _text(event, "event"))


def _page(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    properties = _object(event, "properties")
    name = _optional_text(properties, "url", "properties.url") or _optional_text(event, "name")
    name = name or _optional_text(properties, "name", "properties.name")
    if not name:
        raise PayloadValidationError("page needs properties.url or a name: Customer.io requires a page name")
    return _person_event(event, settings, "page", name, properties)


def _screen(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    properties = _object(event, "properties")
    name = _optional_text(event, "name") or _optional_text(properties, "name", "properties.name")
    if not name:
        raise PayloadValidationError("screen needs a name: Customer.io requires a screen name")
    return _person_event(event, settings, "screen", name, properties)


def _person_event(
    event: Mapping[str, Any],
    settings: CustomerIOSettings,
    action: str,
    name: str,
    properties: Mapping[str, Any] | None = None,
) -> Item:
    if properties is None:
        properties = _object(event, "properties")
    context_traits = _object(_object(event, "context"), "traits", "context.traits")
    identifiers = _person(event, _email(context_traits), id_value(event, "anonymousId"))
    time_ms = event_time_ms(event)
    item: Item = {
        "type": "person",
        "action": action,
        "identifiers": identifiers,
        "name": name,
        "id": dedup_id(event, time_ms),
    }
    if time_ms is not None:
        item["timestamp"] = time_ms // 1000
    item["attributes"] = _attributes(properties, settings)
    return item


def _group(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    group_id = id_value(event, "groupId")
    if not group_id:
        raise PayloadValidationError("groupId: required for group events (it is the object id)")
    traits = _object(event, "traits")
    object_type_id = id_value(traits, "object_type_id", "traits.object_type_id") or DEFAULT_OBJECT_TYPE_ID
    attributes = _attributes(traits, settings)
    attributes.pop("object_type_id", None)
    user_id = id_value(event, "userId")
    anonymous_id = id_value(event, "anonymousId")
    if user_id:
        action, person = "identify", known_person(user_id)
    elif anonymous_id:
        action, person = "identify_anonymous", {"anonymous_id": anonymous_id}
    else:
        raise PayloadValidationError("group needs a userId or anonymousId to relate the object to")
    return {
        "type": "object",
        "action": action,
        "identifiers": {"object_type_id": object_type_id, "object_id": group_id},
        "attributes": attributes,
        "cio_relationships": [{"identifiers": person}],
    }


def _alias(event: Mapping[str, Any], settings: CustomerIOSettings) -> Item:
    user_id = id_value(event, "userId")
    if not user_id:
        raise PayloadValidationError("alias needs a userId: Customer.io merges previousId into an identified person")
    previous_id = id_value(event, "previousId")
    if not previous_id:
        raise PayloadValidationError("previousId: required for alias events")
    return {
        "type": "person",
        "action": "merge",
        "primary": known_person(user_id),
        "secondary": known_person(previous_id),
    }


_BUILDERS: Final[dict[str, Callable[[Mapping[str, Any], CustomerIOSettings], Item]]] = {
    "identify": _identify,
    "track": _track,
    "page": _page,
    "screen": _screen,
    "group": _group,
    "alias": _alias,
}


def _person(event: Mapping[str, Any], email: str | None, anonymous_id: str | None) -> dict[str, str]:
    identifiers = person_identifiers(id_value(event, "userId"), email, anonymous_id)
    if identifiers is None:
        raise PayloadValidationError("the event needs a userId, an email trait or an anonymousId")
    return identifiers


def _object(container: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = container.get(key)
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise PayloadValidationError(f"{where or key} must be an object, got {type(value).__name__}")


_EMPTY: Final[Mapping[str, Any]] = {}


def _attributes(source: Mapping[str, Any], settings: CustomerIOSettings) -> dict[str, Any]:
    """A new top-level dict of attributes, safe to add keys to; nested values may be shared
    with the event but are never changed."""
    if settings.convert_timestamps:
        converted = convert_nested_timestamps(source)
        if converted is not source:
            rebuilt: dict[str, Any] = converted
            return rebuilt
    return dict(source)


def _move_created_at(traits: Mapping[str, Any], attributes: dict[str, Any]) -> None:
    """Customer.io's ``created_at`` is integer Unix seconds; Segment's trait is ``createdAt``.
    When both are set, ``created_at`` wins. A null or empty value is passed on as it is (it
    removes the attribute in Customer.io)."""
    key = "created_at" if "created_at" in traits else "createdAt" if "createdAt" in traits else None
    if key is None:
        return
    attributes.pop("createdAt", None)
    value = traits[key]
    if value is None or value == "":
        attributes["created_at"] = value
        return
    try:
        attributes["created_at"] = to_unix_seconds(value)
    except TimestampError as exc:
        raise PayloadValidationError(f"traits.{key}: {exc}") from None


def _email(traits: Mapping[str, Any]) -> str | None:
    value = traits.get("email")
    return value if isinstance(value, str) and value else None


def _text(event: Mapping[str, Any], key: str) -> str:
    value = _optional_text(event, key)
    if not value:
        raise PayloadValidationError(f"{key}: required, a non-empty string")
    return value


def _optional_text(container: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
    value = container.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise PayloadValidationError(f"{where or key} must be a string, got {type(value).__name__}")
