"""The reader thread: input lines -> validated events -> payloads -> batches.

Bad records never stop the run: each becomes a failure message for the coordinator to record.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import IO, Final

import orjson

from deliverator.clock import Clock
from deliverator.delivery.batching import Batcher
from deliverator.delivery.channels import NOT_TAKEN, READER_DONE, REJECTED, UNSENT, Channels
from deliverator.delivery.items import Item
from deliverator.destination import Destination
from deliverator.errorcodes import ErrorCode
from deliverator.errors import IgnoreEvent, PayloadValidationError
from deliverator.events import InvalidRecord, check_event, decode_record, message_id_of

_OVERSIZE_PREVIEW: Final = 1024


_CHUNK: Final = 1 << 20


def iter_lines(source: IO[bytes], limit: int) -> Iterator[tuple[bytes, bool]]:
    """Yield (line, fits) pairs from ``source`` read in large chunks; a line longer than
    ``limit`` bytes is skipped to its end and yielded as its first KiB with ``fits=False``, so
    one huge line cannot exhaust memory.

    Only ``read`` is used: on an unbuffered stream (stdin) it returns what has arrived, so a
    slow stream is seen line by line, and no buffered reader's lock is held by this thread
    (a daemon thread blocked inside one makes interpreter shutdown abort).
    """
    read = source.read
    pending = b""
    oversize: bytes | None = None  # the head of a line too long to keep, until its end arrives
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            if oversize is not None:
                yield oversize, False
            elif pending:
                yield (pending, True) if len(pending) <= limit else (pending[:_OVERSIZE_PREVIEW], False)
            return
        if oversize is not None:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            yield oversize, False
            oversize = None
            chunk = chunk[end + 1 :]
        lines = (pending + chunk if pending else chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if len(line) <= limit:
                yield line, True
            else:
                yield line[:_OVERSIZE_PREVIEW], False
        if len(pending) > limit:
            oversize, pending = pending[:_OVERSIZE_PREVIEW], b""


class Reader:
    """Turns input lines into items and closed batches."""

    def __init__(
        self,
        destination: Destination,
        batcher: Batcher,
        channels: Channels,
        clock: Clock,
        max_line_bytes: int,
    ) -> None:
        self._destination = destination
        self._batcher = batcher
        self._channels = channels
        self._clock = clock
        self._max_line_bytes = max_line_bytes
        self._max_item_bytes = destination.spec.max_item_bytes
        self.bytes_read = 0

    def run(self, source: IO[bytes]) -> None:
        """Read ``source`` to its end (or until the run stops); always reports READER_DONE."""
        count = 0
        try:
            count = self._read(source)
        except BaseException as exc:  # an unreadable input must still end the run cleanly
            self._channels.results.put((READER_DONE, count, f"reading the input failed: {type(exc).__name__}: {exc}"))
            return
        self._channels.results.put((READER_DONE, count, None))

    def _reject(
        self, index: int, message_id: str | None, raw: bytes, status: int, errortype: ErrorCode, message: str
    ) -> None:
        self._channels.results.put((REJECTED, Item(index, message_id, raw, None, b""), status, errortype, message))

    def _read(self, source: IO[bytes]) -> int:
        index = 0
        stop = self._channels.stop
        build = self._destination.build_payload
        add = self._batcher.add
        dispatch = self._channels.dispatch
        monotonic = self._clock.monotonic
        dumps = orjson.dumps
        max_item = self._max_item_bytes
        lines = iter_lines(source, self._max_line_bytes)
        for line, fits in lines:
            if stop.is_set():
                return self._record_rest_as_cancelled(line, fits, lines, index)
            self.bytes_read += len(line) + 1
            if fits:
                line = line.strip()
                if not line:
                    continue
            current = index
            index += 1
            if not fits:
                self._reject(
                    current,
                    None,
                    line,
                    413,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"input line is longer than {self._max_line_bytes} bytes (max_line_bytes)",
                )
                continue
            record = None
            try:
                record, raw = decode_record(line)
                event = check_event(record)
            except InvalidRecord as exc:
                self._reject(
                    current, message_id_of(record), exc.raw or line, 400, ErrorCode.PAYLOAD_VALIDATION_FAILED, str(exc)
                )
                continue
            message_id = message_id_of(event)
            try:
                payload = build(event)
                encoded = dumps(payload)
            except PayloadValidationError as exc:
                self._reject(current, message_id, raw, 400, ErrorCode.PAYLOAD_VALIDATION_FAILED, str(exc))
                continue
            except IgnoreEvent as exc:
                self._channels.results.put((NOT_TAKEN, Item(current, message_id, raw, None, b""), exc.reason))
                continue
            except Exception as exc:  # a plugin bug fails this event, never the run
                self._reject(
                    current,
                    message_id,
                    raw,
                    500,
                    ErrorCode.UNKNOWN_ERROR,
                    f"building the payload failed: {type(exc).__name__}: {exc}",
                )
                continue
            size = len(encoded)
            if max_item is not None and size > max_item:
                self._reject(
                    current,
                    message_id,
                    raw,
                    413,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"payload is {size} bytes, over the destination's limit of {max_item} bytes per item",
                )
                continue
            for batch in add(Item(current, message_id, raw, payload, encoded), monotonic()):
                if not dispatch(batch, wait_for_room=True):
                    self._channels.results.put((UNSENT, batch))
        return index

    def _record_rest_as_cancelled(
        self, first_line: bytes, first_fits: bool, lines: Iterator[tuple[bytes, bool]], index: int
    ) -> int:
        """The run is stopping: every record not read yet still gets its outcome (cancelled,
        never sent), so the dead-letter file holds everything that was not delivered."""
        message = "the run was cancelled before this event was sent"
        for line, fits in itertools.chain([(first_line, first_fits)], lines):
            self.bytes_read += len(line) + 1
            stripped = line.strip() if fits else line
            if not stripped:
                continue
            message_id, raw = None, stripped
            if fits:
                try:
                    record, raw = decode_record(stripped)
                    message_id = message_id_of(record)
                except InvalidRecord as exc:
                    raw = exc.raw or stripped
            self._reject(index, message_id, raw, 499, ErrorCode.CANCELLED, message)
            index += 1
        return index
