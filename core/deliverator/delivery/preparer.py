"""The preparer thread: source records -> checked events -> payloads -> batches.

Its one job is to turn each record into either a sendable item or a rejection. Whatever a
record holds, it never stops the thread: an exception while checking or building one record
fails that record alone. When the run stops, the coordinator says what becomes of the records
not read yet (:attr:`Preparer.refusal`): nothing (a resumable source keeps them), or a failure
recorded without sending (standard input cancelled, a fatal answer).
"""

from __future__ import annotations

from typing import Final

from deliverator.clock import Clock
from deliverator.delivery.batching import Batcher
from deliverator.delivery.channels import Channels, ReaderDone, Rejected, Skipped, Unsent
from deliverator.delivery.items import Item
from deliverator.delivery.sources import Source, SourceRecord
from deliverator.destination import Destination
from deliverator.encoded import dumps_exact, loads_exact, may_hold_big_integers
from deliverator.errorcodes import ErrorCode
from deliverator.errors import IgnoreEvent, PayloadValidationError
from deliverator.events import InvalidRecord, check_event, decode_record, message_id_of

_INVALID: Final = ErrorCode.PAYLOAD_VALIDATION_FAILED.value
_UNKNOWN: Final = ErrorCode.UNKNOWN_ERROR.value
_TOO_LARGE: Final = ErrorCode.PAYLOAD_TOO_LARGE.value


class Preparer:
    """Turns a source's records into items and closed batches."""

    def __init__(self, destination: Destination, batcher: Batcher, channels: Channels, clock: Clock) -> None:
        self._destination = destination
        self._batcher = batcher
        self._channels = channels
        self._clock = clock
        self._max_item_bytes = destination.spec.max_item_bytes
        # The hot path's callables, bound once.
        self._build = destination.build_payload
        self._add = batcher.add
        self._now = clock.monotonic
        self._dispatch = channels.dispatch
        self.refusal: tuple[int, str, str] | None = None
        """Set by the coordinator before it stops the run: records read from then on are
        recorded failed with (status, errortype, message) without being sent; None leaves
        them unread (released to a resumable source, or lost with an output failure)."""

    def run(self, source: Source) -> None:
        """Prepare ``source`` to its end (or until the run stops); always reports ReaderDone."""
        count = 0
        records = iter(source)
        stopped = self._channels.stop.is_set
        prepare = self._prepare
        try:
            for record in records:
                count += 1
                if stopped():
                    refusal = self.refusal
                    if refusal is None:
                        count -= 1
                        break
                    self._refuse(record, refusal)
                    continue
                prepare(record)
            else:
                self._channels.results.put(ReaderDone(count, None, exhausted=True))
                return
        except Exception as exc:  # an unreadable input must still end the run cleanly
            self._channels.results.put(
                ReaderDone(count, f"reading the input failed: {type(exc).__name__}: {exc}", exhausted=False)
            )
            return
        self._channels.results.put(ReaderDone(count, None, exhausted=False))

    def _reject(
        self, record: SourceRecord, message_id: str | None, raw: bytes, status: int, errortype: str, text: str
    ) -> None:
        self._channels.reject(Rejected(Item(record, message_id, raw, None, b""), status, errortype, text))

    def _refuse(self, record: SourceRecord, refusal: tuple[int, str, str]) -> None:
        message_id, raw = None, record.raw
        if record.refused is None:
            try:
                decoded, raw = decode_record(record.raw)
                message_id = message_id_of(decoded)
            except InvalidRecord as exc:
                raw = exc.raw or record.raw
            except Exception:  # whatever the record holds, it still gets its outcome
                raw = record.raw
        self._reject(record, message_id, raw, *refusal)

    def _prepare(self, record: SourceRecord) -> None:
        if record.refused is not None:
            self._reject(record, None, record.raw, *record.refused)
            return
        line = record.raw
        decoded = None
        try:
            decoded, raw = decode_record(line)
            if isinstance(decoded, dict) and may_hold_big_integers(raw):
                decoded = loads_exact(raw)  # integers beyond 64 bits keep their digits
            event = check_event(decoded)
        except InvalidRecord as exc:
            self._reject(record, message_id_of(decoded), exc.raw or line, 400, _INVALID, str(exc))
            return
        except Exception as exc:  # the core's checks must not stop the reader, whatever the record
            self._reject(
                record, None, line, 400, _INVALID, f"the record could not be checked: {type(exc).__name__}: {exc}"
            )
            return
        message_id = message_id_of(event)
        try:
            payload = self._build(event)
            encoded = dumps_exact(payload)
        except PayloadValidationError as exc:
            self._reject(record, message_id, raw, 400, _INVALID, str(exc))
            return
        except IgnoreEvent as exc:
            self._channels.reject(Skipped(Item(record, message_id, raw, None, b""), exc.reason))
            return
        except Exception as exc:  # a plugin bug fails this event, never the run
            self._reject(
                record, message_id, raw, 500, _UNKNOWN, f"building the payload failed: {type(exc).__name__}: {exc}"
            )
            return
        size = len(encoded)
        max_item = self._max_item_bytes
        if max_item is not None and size > max_item:
            self._reject(
                record,
                message_id,
                raw,
                413,
                _TOO_LARGE,
                f"payload is {size} bytes, over the destination's limit of {max_item} bytes per item",
            )
            return
        for batch in self._add(Item(record, message_id, raw, payload, encoded), self._now()):
            if not self._dispatch(batch, wait_for_room=True):
                self._channels.results.put(Unsent(batch))
