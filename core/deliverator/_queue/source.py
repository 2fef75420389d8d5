"""The source of a worker: entries of the events stream, read through the consumer group.

New entries come from ``XREADGROUP ... >``; entries pending on other consumers for
``claim_idle_s`` (their worker died, or stopped and released them) are taken over with
``XAUTOCLAIM``, and their delivery count is read with ``XPENDING``. An entry delivered more
than ``max_deliveries`` times is handed out refused, as a poison message: the loop fails it
without sending it, so a record that kills its workers cannot loop forever.

Records are read ``read_count`` at a time and only when the loop asks for more (it stops
asking when it holds as much as it may), so a worker's memory is bounded like a file run's.
The source is resumable: on stop, whatever has no outcome stays pending for the next worker.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson

from deliverator._delivery.sources import SourceRecord
from deliverator._errorcodes import ErrorCode
from deliverator._queue.connection import EVENT_FIELD, ensure_group
from deliverator._queue.lease import Lease
from deliverator._queue.settings import QueueConfig
from deliverator._queue.url import QueueUrl

if TYPE_CHECKING:
    import redis

_SCAN_DONE: Final = b"0-0"
_MAX_CLAIM_EVERY_S: Final = 5.0


class RedisSource:
    """Entries for this consumer: new ones, and those claimed from consumers gone quiet."""

    resumable = True
    total: int | None = None
    endless = True
    """It never runs out: an answer that stops the run (a rejected API key) leaves what was not
    sent pending instead of failing it (the loop reads this)."""

    def __init__(
        self,
        url: QueueUrl,
        settings: QueueConfig,
        lease: Lease,
        *,
        reader: redis.Redis,
        control: redis.Redis,
        max_line_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        """``reader`` is a single-connection client (its blocking read is interrupted through
        ``control``, any other client of the same server)."""
        self._url = url
        self._settings = settings
        self._lease = lease
        self._reader = reader
        self._control = control
        self._max_line_bytes = max_line_bytes
        self._stopped = threading.Event()
        self._reader_id: int | None = None
        self._claim_every_s = min(settings.claim_idle_s / 2, _MAX_CLAIM_EVERY_S)
        self.claimed = 0
        """Entries taken over from other consumers."""
        self.poisoned = 0
        """Entries refused for having been delivered more than ``max_deliveries`` times."""
        self.deleted = 0
        """Pending entries found deleted from the stream (trimmed) before their delivery."""

    def stop(self) -> None:
        """End iteration soon: a blocked read returns at once."""
        self._stopped.set()
        reader_id = self._reader_id
        if reader_id is not None:
            # If this fails, the read ends by itself within block_ms.
            with contextlib.suppress(Exception):
                self._control.client_unblock(reader_id)

    def __iter__(self) -> Iterator[SourceRecord]:
        ensure_group(self._control, self._url)
        self._reader_id = int(self._reader.client_id())
        self._lease.start()
        stopped = self._stopped
        next_claim = 0.0
        cursor = _SCAN_DONE
        while not stopped.is_set():
            now = time.monotonic()
            if now >= next_claim:
                records, cursor = self._claim(cursor)
                if cursor == _SCAN_DONE:
                    next_claim = now + self._claim_every_s
                for record in records:
                    if stopped.is_set():
                        return
                    yield record
                if stopped.is_set():
                    return
            for record in self._read_new():
                if stopped.is_set():
                    return
                yield record

    def _read_new(self) -> list[SourceRecord]:
        url = self._url
        reply: Any = self._reader.xreadgroup(
            url.group,
            self._lease.consumer,
            {url.stream: ">"},
            count=self._settings.read_count,
            block=self._settings.block_ms,
        )
        records = []
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                if self._lease.take(entry_id):
                    records.append(self._record(entry_id, fields, None))
        return records

    def _claim(self, cursor: bytes) -> tuple[list[SourceRecord], bytes]:
        url = self._url
        settings = self._settings
        reply: Any = self._control.xautoclaim(
            url.stream,
            url.group,
            self._lease.consumer,
            min_idle_time=int(settings.claim_idle_s * 1000),
            start_id=cursor,
            count=settings.read_count,
        )
        next_cursor, entries = reply[0], reply[1]
        # Redis 7 lists the pending entries it found deleted (trimmed) and drops them from the
        # pending list: they cannot be delivered any more, and are only counted.
        self.deleted += len(reply[2]) if len(reply) > 2 else 0
        self.deleted += sum(1 for _, fields in entries if fields is None)  # Redis 6.2's way of saying so
        # Entries this worker holds already are its own, idle while waiting in the loop:
        # claiming them changes nothing, handing them out twice would deliver them twice.
        taken = [
            (entry_id, fields) for entry_id, fields in entries if fields is not None and self._lease.take(entry_id)
        ]
        if not taken:
            return [], next_cursor
        pipe = self._control.pipeline(transaction=False)
        for entry_id, _ in taken:
            pipe.xpending_range(url.stream, url.group, min=entry_id, max=entry_id, count=1)
        counts: list[Any] = pipe.execute()
        records = []
        consumer = self._lease.consumer.encode()
        for (entry_id, fields), pending in zip(taken, counts, strict=True):
            if not pending or _text(pending[0]["consumer"]).encode() != consumer:
                # Finished or claimed by another worker since our claim: not ours to deliver.
                self._lease.drop([entry_id])
                continue
            records.append(self._record(entry_id, fields, int(pending[0]["times_delivered"])))
        self.claimed += len(records)
        return records, next_cursor

    def _record(self, entry_id: bytes, fields: Mapping[bytes, bytes], deliveries: int | None) -> SourceRecord:
        name = entry_id.decode()
        raw = fields.get(EVENT_FIELD)
        refused: tuple[int, str, str] | None = None
        if raw is None:
            raw = orjson.dumps({_text(key): _text(value) for key, value in fields.items()})
            refused = (
                400,
                ErrorCode.PAYLOAD_VALIDATION_FAILED.value,
                f"stream entry {name} has no {EVENT_FIELD.decode()!r} field (it has: "
                f"{', '.join(sorted(_text(key) for key in fields)) or 'none'})",
            )
        elif deliveries is not None and deliveries > self._settings.max_deliveries:
            self.poisoned += 1
            refused = (
                508,
                ErrorCode.LOOP_DETECTED.value,
                f"poison message: stream entry {name} was delivered {deliveries} times, more than "
                f"max_deliveries = {self._settings.max_deliveries}, each time without an outcome (its workers "
                "stopped or died while holding it); failed without sending it again",
            )
        elif len(raw) > self._max_line_bytes:
            refused = (
                413,
                ErrorCode.PAYLOAD_TOO_LARGE.value,
                f"stream entry {name} is longer than {self._max_line_bytes} bytes (max_line_bytes)",
            )
            raw = raw[:1024]
        return SourceRecord(raw=raw.strip(), index=None, token=entry_id, entry_id=name, refused=refused)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
