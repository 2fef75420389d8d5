"""Payloads that travel with their JSON already encoded.

The core encodes every payload once, to measure it against the destination's byte limits.
Handing those bytes on saves a plugin from encoding the same items again in ``send_batch``,
and the outcome writer from encoding them a third time for the ``sent`` field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson


class PayloadBatch(list[dict[str, Any]]):
    """The payloads of one request, in order, with ``encoded`` holding each one's JSON."""

    __slots__ = ("encoded",)

    def __init__(self, payloads: Iterable[dict[str, Any]], encoded: Sequence[bytes]) -> None:
        super().__init__(payloads)
        self.encoded = encoded


def encode_items(payloads: Sequence[Mapping[str, Any]]) -> bytes:
    """The payloads as JSON values joined by commas (no brackets), ready to be put inside a
    request body's array: ``b'{"batch":[' + encode_items(payloads) + b']}'``.

    Uses the bytes the core already encoded when ``payloads`` is a :class:`PayloadBatch`.
    """
    encoded = getattr(payloads, "encoded", None)
    if encoded is not None:
        return b",".join(encoded)
    return b",".join(orjson.dumps(payload) for payload in payloads)
