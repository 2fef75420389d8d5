"""Reading input records and checking them against the Segment spec.

The checks here are the ones every destination needs (a known ``type``, someone to attribute
the event to, the fields each type cannot do without). A destination's ``build_payload`` adds
its own on top by raising ``PayloadValidationError``.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from deliverator._deepjson import dumps_deep, nesting_depth

EVENT_TYPES: Final = frozenset({"identify", "track", "page", "screen", "group", "alias"})

_REQUIRED_BY_TYPE: Final[dict[str, str]] = {
    "track": "event",
    "group": "groupId",
    "alias": "previousId",
}

_DEAD_LETTER_KEYS: Final = frozenset({"event", "index", "errortype", "errormessage"})

_BOM: Final = b"\xef\xbb\xbf"

MAX_DEPTH: Final = 250
"""The deepest nesting of objects and arrays a record may have. orjson writes at most 254
levels, and a destination's payload wraps the event's fields a level or two deeper; a
deeper record fails validation (400) instead of failing when its payload is encoded."""

SHALLOW_BYTES: Final = 2 * MAX_DEPTH + 1
"""A line at most this long cannot be nested deeper than :data:`MAX_DEPTH` (each level takes
an opening and a closing bracket), so its brackets need not be counted."""


class InvalidRecord(ValueError):
    """An input record that can never be sent; the message names the problem.

    ``raw`` is the original line when it differs from the line read (a re-delivered dead
    letter), so that the new dead letter carries the original again and not a wrapper, and
    ``origin_index`` the index it had in the first input (see :func:`decode_input`).
    """

    raw: bytes | None = None
    origin_index: int | None = None


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_event(event: Any) -> dict[str, Any]:
    """Return ``event`` if it is a sendable Segment event, else raise :class:`InvalidRecord`."""
    if not isinstance(event, dict):
        raise InvalidRecord(f"record is not a JSON object (got {json_kind(event)})")
    kind = event.get("type")
    if kind is None:
        raise InvalidRecord("missing field 'type'")
    if kind not in EVENT_TYPES:
        expected = ", ".join(sorted(EVENT_TYPES))
        raise InvalidRecord(f"unknown type {kind!r} (expected one of: {expected})")
    if not (_present(event.get("userId")) or _present(event.get("anonymousId"))):
        raise InvalidRecord(f"{kind} event needs 'userId' or 'anonymousId'")
    required = _REQUIRED_BY_TYPE.get(kind)
    if required is not None and not _present(event.get(required)):
        raise InvalidRecord(f"{kind} event needs {required!r}")
    return event


def decode_record(line: bytes) -> tuple[Any, bytes]:
    """Parse one input line into (record, original line); see :func:`decode_input`."""
    record, raw, _ = decode_input(line)
    return record, raw


def decode_input(line: bytes) -> tuple[Any, bytes, int | None]:
    """Parse one input line into (record, original line, origin index).

    A dead-letter record yields the original event it carries, that event's own line, and the
    index the event had in the first input it came from: the dead letter's ``origin_index``
    when it has one (a replay of a replay), else its ``index``. Anything else has no origin
    (None). Raises :class:`InvalidRecord` for a line that is not JSON (with ``origin_index``
    set when the line was a dead letter) or is nested deeper than :data:`MAX_DEPTH`. A leading
    UTF-8 byte order mark (a file saved by some Windows editors) is read as UTF-8, which is
    what it says.
    """
    if line.startswith(_BOM):
        line = line[len(_BOM) :]
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"line is not valid JSON: {exc}") from None
    # Only a line with that many brackets can be that deep: the count spares the walk.
    deep = len(line) > SHALLOW_BYTES and line.count(b"[") + line.count(b"{") > MAX_DEPTH
    if isinstance(value, dict) and "type" not in value and value.keys() >= _DEAD_LETTER_KEYS:
        origin = value.get("origin_index", value["index"])
        origin = origin if isinstance(origin, int) and not isinstance(origin, bool) else None
        original = value["event"]
        if isinstance(original, str):
            # The dead letter kept a raw line that was not a JSON object: judge it again.
            try:
                record, raw, _ = decode_input(original.encode())
            except InvalidRecord as exc:
                exc.raw = original.encode()
                exc.origin_index = origin
                raise
            return record, raw, origin
        if deep:
            try:
                _check_depth(original)
            except InvalidRecord as exc:
                # Too deep for orjson to write: the dead letter's original, written without it.
                exc.raw = dumps_deep(original)
                exc.origin_index = origin
                raise
        return original, orjson.dumps(original), origin
    if deep:
        _check_depth(value)
    return value, line, None


def _check_depth(value: Any) -> None:
    depth = nesting_depth(value, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise InvalidRecord(f"record is nested more than {MAX_DEPTH} levels deep (objects and arrays)")


def message_id_of(event: Any) -> str | None:
    """The event's ``messageId`` when it is a string."""
    if isinstance(event, dict):
        value = event.get("messageId")
        if isinstance(value, str):
            return value
    return None


def json_kind(value: Any) -> str:
    """How a message names the JSON type of ``value`` ("an array", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
