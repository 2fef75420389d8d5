"""Who an Amplitude event is about: its ``user_id`` and ``device_id``.

``user_id`` is the event's ``userId``; ``device_id`` is ``context.device.id``, else the
``anonymousId`` (as Segment's Amplitude destination does). Amplitude *removes* an id shorter
than ``min_id_length`` and keeps the event, which would silently move it to another user or
drop its user, so such an event fails here instead, naming the id and the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from deliverator import PayloadValidationError

_EMPTY: Final[Mapping[str, Any]] = {}


def identities(event: Mapping[str, Any], min_id_length: int) -> dict[str, str]:
    """``{"user_id": ..., "device_id": ...}`` with the ids the event has (at least one)."""
    found: dict[str, str] = {}
    user_id = id_text(event, "userId", "userId")
    if user_id is not None:
        found["user_id"] = _long_enough(user_id, "userId", min_id_length)
    device = mapping(mapping(event, "context"), "device", "context.device")
    device_id = id_text(device, "id", "context.device.id")
    where = "context.device.id"
    if device_id is None:
        device_id, where = id_text(event, "anonymousId", "anonymousId"), "anonymousId"
    if device_id is not None:
        found["device_id"] = _long_enough(device_id, where, min_id_length)
    if not found:
        raise PayloadValidationError("the event needs a userId or an anonymousId: Amplitude requires one")
    return found


def id_text(container: Mapping[str, Any], key: str, where: str) -> str | None:
    """``container[key]`` as an id string: None when absent, null or empty; whole numbers are
    written as text (many sources send numeric user ids); any other type fails naming ``where``."""
    value = container.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise PayloadValidationError(f"{where} must be a string, got {type(value).__name__}")


def mapping(container: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    """``container[key]`` when it is an object, an empty mapping when absent or null."""
    value = container.get(key)
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise PayloadValidationError(f"{where or key} must be an object, got {type(value).__name__}")


def _long_enough(value: str, where: str, min_id_length: int) -> str:
    if len(value) < min_id_length:
        raise PayloadValidationError(
            f"{where}: {value[:40]!r} is {len(value)} characters, shorter than min_id_length ({min_id_length}); "
            "Amplitude would drop it from the event (lower min_id_length in the settings to send it)"
        )
    return value
