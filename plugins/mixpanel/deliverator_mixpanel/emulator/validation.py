"""Per-event validation of ``/import?strict=1`` and per-update checks of ``/engage``, written
from Mixpanel's published description (not from the plugin's mapping code), so that the
plugin's tests against the emulator check something independent. Never raises.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import attrs
import orjson

from deliverator_mixpanel.emulator.limits import (
    EARLIEST_TIME_MS,
    FUTURE_SLACK_MS,
    MAX_EVENT_BYTES,
    MAX_INSERT_ID_BYTES,
    MAX_NESTING_DEPTH,
    MAX_PROPERTIES,
    PLACEHOLDER_IDS,
)

_INSERT_ID: Final = re.compile(r"[A-Za-z0-9-]+")


@attrs.frozen
class RecordError:
    """Why one event was refused: the field (a dotted path) and a message."""

    field: str
    message: str


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON."""
    try:
        return len(orjson.dumps(value))
    except TypeError:  # integers beyond 64 bits
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def time_ms(value: Any) -> int | None:
    """``properties.time`` in ms (seconds are read by magnitude), or None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value * 1000) if value < 1e11 else int(value)


def validate_event(event: Any, now_ms: int) -> RecordError | None:
    """The first problem of one imported event, or None when Mixpanel would take it."""
    if not isinstance(event, dict):
        return RecordError("", "each event must be a JSON object")
    if encoded_size(event) >= MAX_EVENT_BYTES:
        return RecordError("", f"an event must be smaller than {MAX_EVENT_BYTES} bytes")
    name = event.get("event")
    if not isinstance(name, str) or not name.strip():
        return RecordError("event", "'event' must be a non-empty string")
    properties = event.get("properties")
    if not isinstance(properties, dict):
        return RecordError("properties", "'properties' must be an object")
    return _check_time(properties, now_ms) or _check_ids(properties) or _check_shape(properties)


def _check_time(properties: dict[str, Any], now_ms: int) -> RecordError | None:
    if "time" not in properties:
        return RecordError("properties.time", "'properties.time' is required")
    ms = time_ms(properties["time"])
    if ms is None:
        return RecordError("properties.time", "'properties.time' must be a number of seconds or milliseconds")
    if ms < EARLIEST_TIME_MS:
        return RecordError("properties.time", "'properties.time' is before 1971-01-01")
    if ms > now_ms + FUTURE_SLACK_MS:
        return RecordError("properties.time", "'properties.time' is more than 1 hour in the future")
    return None


def _check_ids(properties: dict[str, Any]) -> RecordError | None:
    if "distinct_id" not in properties:
        return RecordError("properties.distinct_id", "'properties.distinct_id' is required")
    distinct_id = properties["distinct_id"]
    if not isinstance(distinct_id, str | int) or isinstance(distinct_id, bool):
        return RecordError("properties.distinct_id", "'properties.distinct_id' must be a string")
    text = str(distinct_id)
    if text and text.lower() in PLACEHOLDER_IDS:
        return RecordError("properties.distinct_id", f"'properties.distinct_id' is a placeholder value: {text!r}")
    insert_id = properties.get("$insert_id")
    if not isinstance(insert_id, str):
        return RecordError("properties.$insert_id", "'properties.$insert_id' is required (a string)")
    if len(insert_id.encode()) > MAX_INSERT_ID_BYTES or not _INSERT_ID.fullmatch(insert_id):
        return RecordError(
            "properties.$insert_id", "'properties.$insert_id' must be at most 36 alphanumeric or '-' characters"
        )
    if insert_id.lower() in PLACEHOLDER_IDS:
        return RecordError("properties.$insert_id", f"'properties.$insert_id' is a placeholder value: {insert_id!r}")
    return None


def _check_shape(properties: dict[str, Any]) -> RecordError | None:
    if len(properties) >= MAX_PROPERTIES:
        return RecordError("properties", f"an event must have fewer than {MAX_PROPERTIES} properties")
    for key, value in properties.items():
        problem = _nested(value, f"properties.{key}", 1)
        if problem is not None:
            return problem
    return None


def _nested(value: Any, field: str, depth: int) -> RecordError | None:
    if isinstance(value, dict):
        if depth > MAX_NESTING_DEPTH:
            return RecordError(field, f"objects may nest at most {MAX_NESTING_DEPTH} deep")
        if len(value) >= MAX_PROPERTIES:
            return RecordError(field, f"a nested object must have fewer than {MAX_PROPERTIES} keys")
        for key, item in value.items():
            problem = _nested(item, f"{field}.{key}", depth + 1)
            if problem is not None:
                return problem
    elif isinstance(value, list):
        if len(value) >= MAX_PROPERTIES:
            return RecordError(field, f"a list must have fewer than {MAX_PROPERTIES} items")
        for position, item in enumerate(value):
            problem = _nested(item, f"{field}[{position}]", depth)
            if problem is not None:
                return problem
    return None


def update_problem(update: Any, token: str) -> str | None:
    """Why ``/engage`` would not take one profile update, or None."""
    if not isinstance(update, dict):
        return "each update must be a JSON object"
    if update.get("$token") != token:
        return "invalid project token ($token)"
    distinct_id = update.get("$distinct_id")
    if not isinstance(distinct_id, str) or distinct_id.lower() in PLACEHOLDER_IDS:
        return "'$distinct_id' must be a non-placeholder string"
    operations = [key for key in update if key not in ("$token", "$distinct_id", "$ip", "$ignore_time", "$time")]
    if operations != ["$set"] or not isinstance(update["$set"], dict):
        return "this emulator takes one '$set' object per update"
    if encoded_size(update) >= MAX_EVENT_BYTES:
        return f"an update must be smaller than {MAX_EVENT_BYTES} bytes"
    return None
