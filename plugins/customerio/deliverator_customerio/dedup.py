"""Deduplication ids for event, page and screen items.

Customer.io drops an event whose ``id`` (a ULID) it has already seen. We derive that id from
the event itself, never from a random number or the clock, so that a retry, a re-run of the
same input or a re-delivery from the dead-letter file carries the same id and cannot count
twice:

- the first 48 bits are the event's time in milliseconds (0 when the event has none),
- the last 80 bits are a BLAKE2b hash of its ``messageId``, or, without one, of the event's
  canonical JSON (keys sorted, no whitespace).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

from deliverator_customerio.ulid import ENTROPY_BYTES, encode_ulid

_CANONICAL_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dedup_id(event: Mapping[str, Any], time_ms: int | None) -> str:
    """The ULID that identifies ``event`` to Customer.io's deduplication."""
    digest = hashlib.blake2b(_identity(event), digest_size=ENTROPY_BYTES).digest()
    return encode_ulid(time_ms or 0, digest)


def _identity(event: Mapping[str, Any]) -> bytes:
    message_id = event.get("messageId")
    if isinstance(message_id, str) and message_id:
        return b"messageId\x00" + message_id.encode("utf-8", "surrogatepass")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        return b"messageId\x00" + str(message_id).encode()
    return b"event\x00" + canonical_json(event)


def canonical_json(value: Any) -> bytes:
    """``value`` as JSON with sorted keys and no whitespace: equal values, equal bytes.

    orjson refuses integers beyond 64 bits; the standard library writes those (same bytes
    for the same value, which is all a hash needs).
    """
    try:
        return orjson.dumps(value, option=_CANONICAL_OPTIONS)
    except TypeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
        return text.encode("utf-8", "surrogatepass")
