"""``$insert_id``: the id Mixpanel deduplicates imported events by.

Mixpanel wants at most 36 characters, alphanumerics or ``-``. Segment's ``messageId`` is often
longer (and may hold other characters), so we never send it as it is: the id is the first 128
bits of a BLAKE2b hash, as 32 lowercase hex digits, of the event's ``messageId``, or, for an
event without one, of its canonical JSON (keys sorted, no whitespace). Nothing random and
nothing from the clock goes in, so a retry, a re-run of the same input and a re-delivery from
the dead-letter file all carry the same id, and Mixpanel counts the event once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

import orjson

INSERT_ID_LENGTH: Final = 32
_DOMAIN: Final = b"deliverator-mixpanel/insert-id/v1\x00"
"""Mixed into the hash so that ids made from a messageId and from content never collide."""


def insert_id(event: Mapping[str, Any]) -> str:
    """The ``$insert_id`` for ``event``: 32 hex digits, the same for the same event."""
    digest = hashlib.blake2b(_DOMAIN + _identity(event), digest_size=INSERT_ID_LENGTH // 2)
    return digest.hexdigest()


def _identity(event: Mapping[str, Any]) -> bytes:
    message_id = event.get("messageId")
    if isinstance(message_id, str) and message_id:
        return b"m:" + message_id.encode("utf-8", "surrogatepass")
    try:
        canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers beyond 64 bits: the standard library writes their digits
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return b"c:" + canonical
