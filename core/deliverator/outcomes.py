"""Outcome records: one JSON line per input record, and dead letters for the failures.

The record's fields are a contract (DESIGN.md "Outcome records"); :class:`Outcome` is the typed
view used by tests and tools, while the writer builds lines directly for speed.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import orjson

from deliverator.encoded import dumps_exact
from deliverator.errorcodes import ErrorCode

DELIVERED: Final = "delivered"
FAILED: Final = "failed"
IGNORED: Final = "ignored"


@attrs.frozen(kw_only=True)
class Outcome:
    """The final fate of one input record."""

    index: int | None
    message_id: str | None
    outcome: str = attrs.field(validator=attrs.validators.in_((DELIVERED, FAILED, IGNORED)))
    status: int
    errortype: ErrorCode | None = None
    errormessage: str | None = None
    attempts: int = 0
    sent: Any = None
    body: Any = None
    entry_id: str | None = None


def outcome_line(
    index: int | None,
    message_id: str | None,
    outcome: str,
    status: int,
    errortype: str | None,
    errormessage: str | None,
    attempts: int,
    sent: Any,
    body: Any,
    entry_id: str | None = None,
) -> bytes:
    """One outcome record as a JSON line (``entry_id``: a queue entry's stream id, written
    after ``index``, which is null for queue entries)."""
    record: dict[str, Any] = {"index": index}
    if entry_id is not None:
        record["entry_id"] = entry_id
    record.update(
        {
            "message_id": message_id,
            "outcome": outcome,
            "status": status,
            "errortype": errortype,
            "errormessage": errormessage,
            "attempts": attempts,
            "sent": sent,
            "body": body,
        }
    )
    return dumps_exact(record, option=orjson.OPT_APPEND_NEWLINE, default=_fallback)


_DELIVERED_LINE: Final = (
    b'{"index":%d,"message_id":%b,"outcome":"delivered","status":%d,"errortype":null,'
    b'"errormessage":null,"attempts":%d,"sent":%b,"body":%b}\n'
)


def delivered_line(
    index: int, message_id: str | None, status: int, attempts: int, sent_json: bytes, body: Any
) -> bytes:
    """The record of a delivered event, from the item's JSON as posted (``sent_json``).

    Byte-for-byte what :func:`outcome_line` writes; a template, because most records of a
    healthy run are this one and it is the coordinator's hot path.
    """
    return _DELIVERED_LINE % (
        index,
        b"null" if message_id is None else orjson.dumps(message_id),
        status,
        attempts,
        sent_json,
        b"null" if body is None else dumps_exact(body, default=_fallback),
    )


def dead_letter_line(
    raw: bytes,
    index: int | None,
    status: int,
    errortype: str | None,
    errormessage: str | None,
    attempts: int,
    entry_id: str | None = None,
) -> bytes:
    """One dead letter: the original record under ``event`` (the raw line as a string when it
    was not a JSON object) plus why it failed (and ``entry_id`` for a queue entry)."""
    try:
        original: Any = orjson.loads(raw)
        event: Any = orjson.Fragment(raw.strip()) if isinstance(original, dict) else raw.decode("utf-8", "replace")
    except orjson.JSONDecodeError:
        event = raw.decode("utf-8", "replace")
    record: dict[str, Any] = {"event": event, "index": index}
    if entry_id is not None:
        record["entry_id"] = entry_id
    record.update({"status": status, "errortype": errortype, "errormessage": errormessage, "attempts": attempts})
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def read_outcomes(data: bytes) -> list[Outcome]:
    """Parse an outcome file's contents (for tests and tools)."""
    from deliverator.convert import converter

    return [converter.structure(orjson.loads(line), Outcome) for line in data.splitlines() if line.strip()]


def _fallback(value: Any) -> Any:
    # A plugin may put anything in sent/body; an outcome record must still be written.
    return repr(value)
