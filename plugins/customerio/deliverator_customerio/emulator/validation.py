"""Per-item validation, as the Track API documents it.

:func:`validate_item` returns every problem of one item (several are possible, as in a real
207 answer), each with the ``reason`` Customer.io uses (``required`` for a missing field,
``invalid`` for a wrong one), the ``field`` as a dotted path inside the item, and a message a
person can act on. It never raises, whatever the item holds.

This is deliberately written from the published description and not from the plugin's
mapping code, so that the plugin's tests against the emulator check something independent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import orjson

from deliverator import json_kind
from deliverator_customerio.emulator.limits import (
    MAX_ATTRIBUTES,
    MAX_EVENT_NAME_BYTES,
    MAX_ITEM_BYTES,
    MAX_NAME_BYTES,
    MAX_VALUE_BYTES,
)

PERSON_IDENTIFIERS: Final = ("id", "email", "cio_id", "phone")
MERGE_IDENTIFIERS: Final = ("id", "email", "cio_id")
ANONYMOUS_ACTIONS: Final = frozenset({"event", "page", "screen"})
"""Person actions that also accept the (undocumented) ``anonymous_id`` identifier."""

DEVICE_PLATFORMS: Final = ("ios", "android")
DELIVERY_EVENT_NAMES: Final = ("opened", "converted", "delivered")
EMAIL_ATTRIBUTES: Final = ("recipient", "from_address", "reply_to")

_ULID: Final = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.IGNORECASE)
"""26 Crockford base32 digits whose value fits in 128 bits (case-insensitive, as the ULID
spec allows)."""


@attrs.frozen
class ItemError:
    """One problem with one item: Customer.io's ``reason``, ``field`` and ``message``."""

    reason: str
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        """The error entry as it appears in an answer body (without ``batch_index``)."""
        return {"reason": self.reason, "field": self.field, "message": self.message}


class _Problems:
    """Collects the errors of one item."""

    def __init__(self) -> None:
        self.errors: list[ItemError] = []

    def required(self, field: str, message: str) -> None:
        self.errors.append(ItemError("required", field, message))

    def invalid(self, field: str, message: str) -> None:
        self.errors.append(ItemError("invalid", field, message))


def validate_item(item: Any) -> list[ItemError]:
    """Every problem of one batch item (empty when Customer.io would accept it)."""
    problems = _Problems()
    if not isinstance(item, dict):
        problems.invalid("", f"each item must be a JSON object, got {json_kind(item)}")
        return problems.errors
    kind = item.get("type")
    action = item.get("action")
    checks = _ACTIONS.get(kind) if isinstance(kind, str) else None
    if kind is None:
        problems.required("type", "type is required: one of " + ", ".join(_ACTIONS))
    elif checks is None:
        problems.invalid("type", f"unknown type {kind!r}: expected one of " + ", ".join(_ACTIONS))
    if action is None:
        problems.required("action", "action is required")
    elif checks is not None:
        check = checks.get(action) if isinstance(action, str) else None
        if check is None:
            expected = ", ".join(checks)
            problems.invalid("action", f"unknown action {action!r} for type {kind!r}: expected one of {expected}")
        else:
            check(item, problems)
    _check_timestamp(item, "timestamp", problems)
    return problems.errors


def item_size_error(size: int) -> ItemError | None:
    """The error for an item of ``size`` encoded bytes, or None when it is within the limit."""
    if size <= MAX_ITEM_BYTES:
        return None
    return ItemError("invalid", "", f"item is {size} bytes; an item may be at most {MAX_ITEM_BYTES} bytes")


# --- person actions ------------------------------------------------------------------------


def _person_identify(item: Mapping[str, Any], problems: _Problems) -> None:
    _check_person_identifiers(item, problems)
    _check_attributes(item, "attributes", problems)
    _check_relationships(item, problems, required=False, identifiers=_object_identifiers)


def _person_identifiers_only(item: Mapping[str, Any], problems: _Problems) -> None:
    _check_person_identifiers(item, problems)


def _person_event(item: Mapping[str, Any], problems: _Problems) -> None:
    action = item["action"]
    _check_person_identifiers(item, problems, allow_anonymous=True)
    name = item.get("name")
    if _is_blank(name):
        problems.required("name", f"a person {action} needs a name")
    elif not isinstance(name, str):
        problems.invalid("name", f"name must be a string, got {json_kind(name)}")
    elif action == "event" and _size(name) > MAX_EVENT_NAME_BYTES:
        problems.invalid("name", f"event name is {_size(name)} bytes; the limit is {MAX_EVENT_NAME_BYTES}")
    event_id = item.get("id")
    if event_id is not None and not (isinstance(event_id, str) and _ULID.fullmatch(event_id)):
        problems.invalid("id", f"id must be a ULID (26 Crockford base32 characters), got {_short(event_id)}")
    _check_attributes(item, "attributes", problems)
    attributes = item.get("attributes")
    if action == "event" and isinstance(attributes, dict):
        for key in EMAIL_ATTRIBUTES:
            value = attributes.get(key)
            if value is not None and not _looks_like_email(value):
                problems.invalid(f"attributes.{key}", f"{key} must be an email address, got {_short(value)}")


def _person_relationships(item: Mapping[str, Any], problems: _Problems) -> None:
    _check_person_identifiers(item, problems)
    _check_relationships(item, problems, required=True, identifiers=_object_identifiers)


def _add_device(item: Mapping[str, Any], problems: _Problems) -> None:
    _check_person_identifiers(item, problems)
    device = _required_object(item, "device", problems)
    if device is None:
        return
    _check_token(device, problems)
    platform = device.get("platform")
    if platform is None:
        problems.required("device.platform", "device.platform is required: ios or android")
    elif platform not in DEVICE_PLATFORMS:
        problems.invalid("device.platform", f"device.platform must be ios or android, got {_short(platform)}")
    _check_timestamp(device, "last_used", problems, where="device.last_used")
    attributes = device.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, dict):
            problems.invalid("device.attributes", f"device.attributes must be an object, got {json_kind(attributes)}")
        else:
            for key, value in attributes.items():
                if not isinstance(value, str):
                    problems.invalid(
                        f"device.attributes.{key}", f"device attributes are strings, got {json_kind(value)}"
                    )


def _delete_device(item: Mapping[str, Any], problems: _Problems) -> None:
    _check_person_identifiers(item, problems)
    device = _required_object(item, "device", problems)
    if device is not None:
        _check_token(device, problems)


def _merge(item: Mapping[str, Any], problems: _Problems) -> None:
    for side in ("primary", "secondary"):
        _check_one_identifier(item.get(side), side, MERGE_IDENTIFIERS, problems)


# --- objects and deliveries ------------------------------------------------------------------


def _object_identify(item: Mapping[str, Any], problems: _Problems) -> None:
    _object_identifiers(item.get("identifiers"), "identifiers", problems)
    _check_attributes(item, "attributes", problems)
    anonymous = item["action"] == "identify_anonymous"
    _check_relationships(
        item, problems, required=False, identifiers=_anonymous_person if anonymous else _related_person
    )


def _object_delete(item: Mapping[str, Any], problems: _Problems) -> None:
    _object_identifiers(item.get("identifiers"), "identifiers", problems)


def _object_relationships(item: Mapping[str, Any], problems: _Problems) -> None:
    _object_identifiers(item.get("identifiers"), "identifiers", problems)
    _check_relationships(item, problems, required=True, identifiers=_related_person)


def _delivery_event(item: Mapping[str, Any], problems: _Problems) -> None:
    identifiers = item.get("identifiers")
    if identifiers is None:
        problems.required("identifiers", "a delivery event needs identifiers {id: <delivery id>}")
    elif not isinstance(identifiers, dict) or _is_blank(identifiers.get("id")):
        problems.invalid("identifiers", "delivery identifiers must be {id: <delivery id>}")
    name = item.get("name")
    if name is None:
        problems.required("name", "a delivery event needs a name: " + ", ".join(DELIVERY_EVENT_NAMES))
    elif name not in DELIVERY_EVENT_NAMES:
        problems.invalid("name", f"delivery event name must be one of {', '.join(DELIVERY_EVENT_NAMES)}")
    attributes = _required_object(item, "attributes", problems)
    if attributes is not None and _is_blank(attributes.get("device_token")):
        problems.required("attributes.device_token", "a delivery event needs attributes.device_token")


Check = Callable[[Mapping[str, Any], _Problems], None]

_ACTIONS: Final[dict[str, dict[str, Check]]] = {
    "person": {
        "identify": _person_identify,
        "delete": _person_identifiers_only,
        "event": _person_event,
        "page": _person_event,
        "screen": _person_event,
        "add_relationships": _person_relationships,
        "delete_relationships": _person_relationships,
        "add_device": _add_device,
        "delete_device": _delete_device,
        "merge": _merge,
        "suppress": _person_identifiers_only,
        "unsuppress": _person_identifiers_only,
    },
    "object": {
        "identify": _object_identify,
        "identify_anonymous": _object_identify,
        "delete": _object_delete,
        "add_relationships": _object_relationships,
        "delete_relationships": _object_relationships,
    },
    "delivery": {"event": _delivery_event},
}


# --- shared checks ---------------------------------------------------------------------------

IdentifierCheck = Callable[[Any, str, _Problems], None]


def _check_person_identifiers(item: Mapping[str, Any], problems: _Problems, allow_anonymous: bool = False) -> None:
    allowed = (*PERSON_IDENTIFIERS, "anonymous_id") if allow_anonymous else PERSON_IDENTIFIERS
    _check_one_identifier(item.get("identifiers"), "identifiers", allowed, problems)


def _check_one_identifier(value: Any, field: str, allowed: tuple[str, ...], problems: _Problems) -> None:
    """Exactly one of ``allowed``, a non-empty string within the name limit."""
    names = ", ".join(allowed)
    if value is None:
        problems.required(field, f"{field} is required: exactly one of {names}")
        return
    if not isinstance(value, dict):
        problems.invalid(field, f"{field} must be an object with exactly one of {names}, got {json_kind(value)}")
        return
    unknown = [key for key in value if key not in allowed]
    present = [key for key in allowed if key in value]
    if unknown:
        problems.invalid(field, f"{field} has unknown identifier {unknown[0]!r}: expected exactly one of {names}")
    elif not present:
        problems.required(field, f"{field} needs exactly one of {names}")
    elif len(present) > 1:
        problems.invalid(field, f"{field} must hold exactly one identifier, got {' and '.join(present)}")
    else:
        key = present[0]
        _check_identifier_value(value[key], f"{field}.{key}", problems, email=key == "email")


def _check_identifier_value(value: Any, field: str, problems: _Problems, email: bool = False) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.invalid(field, f"{field} must be a non-empty string, got {_short(value)}")
    elif _size(value) > MAX_NAME_BYTES:
        problems.invalid(field, f"{field} is {_size(value)} bytes; identifiers may be at most {MAX_NAME_BYTES}")
    elif email and not _looks_like_email(value):
        problems.invalid(field, f"{field} must be an email address, got {_short(value)}")


def _object_identifiers(value: Any, field: str, problems: _Problems) -> None:
    """``{object_type_id, object_id}`` or ``{cio_object_id}``."""
    if value is None:
        problems.required(field, f"{field} is required: {{object_type_id, object_id}} or {{cio_object_id}}")
        return
    if not isinstance(value, dict):
        problems.invalid(field, f"{field} must be an object, got {json_kind(value)}")
        return
    if "cio_object_id" in value:
        if "object_id" in value or "object_type_id" in value:
            problems.invalid(field, f"{field}: give cio_object_id or object_type_id with object_id, not both")
        else:
            _check_identifier_value(value["cio_object_id"], f"{field}.cio_object_id", problems)
        return
    for key in ("object_type_id", "object_id"):
        if key not in value:
            problems.required(f"{field}.{key}", f"{field}.{key} is required (or give cio_object_id)")
        else:
            _check_identifier_value(value[key], f"{field}.{key}", problems)


def _related_person(value: Any, field: str, problems: _Problems) -> None:
    _check_one_identifier(value, field, PERSON_IDENTIFIERS, problems)


def _anonymous_person(value: Any, field: str, problems: _Problems) -> None:
    _check_one_identifier(value, field, ("anonymous_id",), problems)


def _check_relationships(
    item: Mapping[str, Any], problems: _Problems, required: bool, identifiers: IdentifierCheck
) -> None:
    relationships = item.get("cio_relationships")
    if relationships is None:
        if required:
            problems.required("cio_relationships", "cio_relationships is required: a non-empty list")
        return
    if not isinstance(relationships, list) or (required and not relationships):
        problems.invalid(
            "cio_relationships", f"cio_relationships must be a non-empty list, got {json_kind(relationships)}"
        )
        return
    for position, relationship in enumerate(relationships):
        where = f"cio_relationships[{position}]"
        if not isinstance(relationship, dict):
            problems.invalid(where, f"{where} must be an object, got {json_kind(relationship)}")
            continue
        identifiers(relationship.get("identifiers"), f"{where}.identifiers", problems)
        _check_attributes(relationship, "relationship_attributes", problems, where=f"{where}.relationship_attributes")


def _check_attributes(container: Mapping[str, Any], key: str, problems: _Problems, where: str | None = None) -> None:
    """An optional object of at most 300 attributes, names ≤ 150 bytes, values ≤ 1000 bytes."""
    field = where or key
    attributes = container.get(key)
    if attributes is None:
        return
    if not isinstance(attributes, dict):
        problems.invalid(field, f"{field} must be an object, got {json_kind(attributes)}")
        return
    if len(attributes) > MAX_ATTRIBUTES:
        problems.invalid(field, f"{field} has {len(attributes)} attributes; the limit is {MAX_ATTRIBUTES}")
    for name, value in attributes.items():
        if _size(name) > MAX_NAME_BYTES:
            problems.invalid(
                field,
                f"attribute name {_short(name)} is {_size(name)} bytes; names may be at most {MAX_NAME_BYTES}",
            )
        value_size = _encoded_size(value)
        if value_size > MAX_VALUE_BYTES:
            problems.invalid(
                f"{field}.{name}" if _size(name) <= MAX_NAME_BYTES else field,
                f"attribute {_short(name)} has a value of {value_size} bytes; values may be at most {MAX_VALUE_BYTES}",
            )


def _check_timestamp(container: Mapping[str, Any], key: str, problems: _Problems, where: str | None = None) -> None:
    value = container.get(key)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        problems.invalid(
            where or key, f"{where or key} must be a non-negative integer (Unix seconds), got {_short(value)}"
        )


def _check_token(device: Mapping[str, Any], problems: _Problems) -> None:
    token = device.get("token")
    if token is None:
        problems.required("device.token", "device.token is required")
    elif not isinstance(token, str) or not token.strip():
        problems.invalid("device.token", f"device.token must be a non-empty string, got {_short(token)}")


def _required_object(item: Mapping[str, Any], key: str, problems: _Problems) -> Mapping[str, Any] | None:
    value = item.get(key)
    if value is None:
        problems.required(key, f"{key} is required")
        return None
    if not isinstance(value, dict):
        problems.invalid(key, f"{key} must be an object, got {json_kind(value)}")
        return None
    return value


# --- small helpers ---------------------------------------------------------------------------


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _encoded_size(value: Any) -> int:
    if isinstance(value, str):
        return _size(value)
    try:
        return len(orjson.dumps(value))
    except TypeError:
        return len(repr(value))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _looks_like_email(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain and " " not in value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
