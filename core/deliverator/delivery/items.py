"""The state of one event while it travels through a run."""

from __future__ import annotations

from typing import Any

import attrs

from deliverator.delivery.sources import SourceRecord
from deliverator.errorcodes import ErrorCode


@attrs.frozen(slots=True)
class Failure:
    """Why the last attempt for an item failed: what its outcome says if no retry succeeds."""

    status: int
    errortype: ErrorCode
    errormessage: str
    body: Any = None


class Item:
    """One sendable event: its payload, and the counters the retry rules need.

    Mutable on purpose and without a lock: an item is in exactly one place at a time (the
    batcher, a request, the retry schedule), so only one thread ever touches it.
    """

    __slots__ = (
        "attempts",
        "done",
        "encoded",
        "first_sent_at",
        "index",
        "last_failure",
        "message_id",
        "payload",
        "raw",
        "record",
        "retries",
        "wait_until",
    )

    def __init__(self, record: SourceRecord, message_id: str | None, raw: bytes, payload: Any, encoded: bytes) -> None:
        self.record = record
        self.index = record.index
        self.message_id = message_id
        self.raw = raw
        self.payload = payload
        self.encoded = encoded
        self.attempts = 0
        self.retries = 0
        self.first_sent_at: float | None = None
        self.last_failure: Failure | None = None
        self.done = False
        self.wait_until: float | None = None
        """Not to be sent before this (monotonic) time: the destination's ``retry_after_s``."""

    def __repr__(self) -> str:
        return f"Item(index={self.index}, attempts={self.attempts}, retries={self.retries})"
