"""Deterministic ``insert_id`` values: what makes a retry, or a re-run, safe.

Amplitude ignores a later event whose ``insert_id`` (and ``device_id``, when present) it saw
in the past 7 days. We derive the id from the event, never from a random number or the clock,
so every retry of a batch, every re-run of the same input and every re-delivery from the
dead-letter file carries the same one: ``dlv-`` and 32 hex characters of a BLAKE2b hash of the
event's ``messageId``, or, without one, of the whole event as canonical JSON (sorted keys, no
whitespace).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

import orjson

PREFIX: Final = "dlv-"
"""Marks ids deliverator made, so they are told apart from an app's own."""

_DIGEST_BYTES: Final = 16
_CANONICAL: Final = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def insert_id(event: Mapping[str, Any]) -> str:
    """The ``insert_id`` for ``event``: equal for equal ``messageId`` (or equal content)."""
    digest = hashlib.blake2b(_identity(event), digest_size=_DIGEST_BYTES).hexdigest()
    return PREFIX + digest


def _identity(event: Mapping[str, Any]) -> bytes:
    message_id = event.get("messageId")
    if isinstance(message_id, str) and message_id:
        return b"messageId\x00" + message_id.encode("utf-8", "surrogatepass")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        return b"messageId\x00" + str(message_id).encode()
    return b"event\x00" + canonical_json(event)


def canonical_json(value: Any) -> bytes:
    """``value`` as JSON with sorted keys and no whitespace: equal values, equal bytes.

    orjson refuses integers beyond 64 bits; the standard library writes those.
    """
    try:
        return orjson.dumps(value, option=_CANONICAL)
    except TypeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
        return text.encode("utf-8", "surrogatepass")
