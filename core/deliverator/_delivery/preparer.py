"""The preparer thread: source records -> checked events -> payloads -> batches.

Its one job is to turn each record into either a sendable item or a rejection. Whatever a
record holds, it never stops the thread: an exception while checking or building one record
fails that record alone. When the run stops, the coordinator says what becomes of the records
not read yet (:attr:`Preparer.refusal`): nothing (a resumable source keeps them), or a failure
recorded without sending (standard input cancelled, a fatal answer). Those are refused in
blocks of :data:`~deliverator._delivery.channels.REFUSED_BLOCK` records, one message each, so
that the rest of a long input is refused in seconds, not minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Final

import orjson

from deliverator._clock import Clock
from deliverator._delivery.batching import Batcher
from deliverator._delivery.channels import (
    REFUSED_BLOCK,
    Channels,
    ReaderDone,
    RefusedBlock,
    RefusedRecord,
    Rejected,
    Skipped,
    Unsent,
)
from deliverator._delivery.filesource import LineBlock
from deliverator._delivery.items import Item
from deliverator._delivery.refusal import RefusalTemplates, RenderedRefusals
from deliverator._delivery.sources import Source, SourceRecord
from deliverator._destination import Destination
from deliverator._encoded import dumps_exact, loads_exact, may_hold_big_integers
from deliverator._errorcodes import ErrorCode
from deliverator._errors import IgnoreEvent, PayloadValidationError
from deliverator._events import MAX_DEPTH, SHALLOW_BYTES, InvalidRecord, check_event, decode_input, message_id_of

_INVALID: Final = ErrorCode.PAYLOAD_VALIDATION_FAILED.value
_UNKNOWN: Final = ErrorCode.UNKNOWN_ERROR.value
_TOO_LARGE: Final = ErrorCode.PAYLOAD_TOO_LARGE.value


class Preparer:
    """Turns a source's records into items and closed batches."""

    def __init__(
        self,
        destination: Destination,
        batcher: Batcher,
        channels: Channels,
        clock: Clock,
        *,
        refuse_in_blocks: bool = False,
    ) -> None:
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
        self._refused: list[RefusedRecord] = []
        """The block being filled. The coordinator takes it when it stops waiting for a reader
        blocked on a quiet pipe (take_refused). Taking it or handing it over replaces it,
        under _refused_lock, so that no block is both; a record is appended without the lock
        (one append, atomic), so one appended while the coordinator takes the block may miss
        it: a record read as the run ends, lost as one read just after would be."""
        self._refused_lock = threading.Lock()
        self._refused_count = 0
        self._refuse_in_blocks = refuse_in_blocks
        """The run's sink takes refused records already written out (``add_block``): a source
        that hands out the rest of its input a chunk at a time has it refused that way."""

    def run(self, source: Source) -> None:
        """Prepare ``source`` to its end (or until the run stops); always reports ReaderDone."""
        count = 0
        records = iter(source)
        stopped = self._channels.stop.is_set
        prepare = self._prepare
        exhausted = False
        error = None
        try:
            for record in records:
                count += 1
                if stopped():
                    count -= 1
                    refusal = self.refusal
                    if refusal is not None:
                        exhausted = self._refuse_rest(record, records, source, refusal)
                    break
                prepare(record)
            else:
                exhausted = True
        except Exception as exc:  # an unreadable input must still end the run cleanly
            error = f"reading the input failed: {type(exc).__name__}: {exc}"
        if self.refusal is not None:
            self._hand_over(self.refusal)  # what was refused before reading ended
        self._channels.results.put(ReaderDone(count + self._refused_count, error, exhausted=exhausted))

    def take_refused(self) -> RefusedBlock | None:
        """The records refused and not handed over yet, as a block (for the coordinator, when
        it stops waiting for a reader blocked on a quiet pipe: they were read, so they get
        their outcome); None when there are none."""
        refusal = self.refusal
        with self._refused_lock:
            taken, self._refused = self._refused, []
            records = taken[:]  # what is in it now: the reader may still append to it
            self._refused_count += len(records)
        if not records or refusal is None:
            return None
        return RefusedBlock(records, *refusal)

    def _refuse_rest(
        self, first: SourceRecord, records: Iterator[SourceRecord], source: Source, refusal: tuple[int, str, str]
    ) -> bool:
        """Refuse ``first`` and every record after it, handing them over in blocks; True when
        the source was read to its end (False: the coordinator stopped taking them)."""
        general = self._refused_record
        self._refused.append(general(first))
        plain = _plain_event
        rest_in_blocks = getattr(source, "rest_in_blocks", None) if self._refuse_in_blocks else None
        if rest_in_blocks is not None:
            return self._refuse_chunks(rest_in_blocks(), refusal)
        loads = orjson.loads
        for record in records:
            # The common record, a JSON object that is not a dead letter, with one parse and no
            # call: what decode_input makes of it, decided as decode_input decides (a line
            # with a byte order mark is not JSON to orjson, so it takes the general path).
            raw = record.raw
            try:
                value = loads(raw)
            except Exception:  # not JSON, or anything else: the general path says what it is
                value = None
            if record.refused is None and record.entry_id is None and record.index is not None and plain(value, raw):
                message_id = value.get("messageId")
                refused: RefusedRecord = (record, message_id if type(message_id) is str else None, raw, None, True)
            else:
                refused = general(record)
            pending = self._refused
            pending.append(refused)
            if len(pending) >= REFUSED_BLOCK and not self._hand_over(refusal):
                return False
        return True

    def _refuse_chunks(self, parts: Iterator[LineBlock | SourceRecord], refusal: tuple[int, str, str]) -> bool:
        """:meth:`_refuse_rest` over a file's lines a chunk at a time: a plain record (the
        test is the one above) is written out here from the refusal's templates, so that it
        costs a parse and two formats, not a record, a tuple and a call or two; any other
        takes the general path."""
        templates = RefusalTemplates.of(*refusal)
        outcome_template, dead_template = templates.outcome, templates.dead_letter
        loads, dumps = orjson.loads, orjson.dumps
        general = self._refused_record
        plain = _plain_event
        for part in parts:
            if isinstance(part, SourceRecord):  # a line too long to keep
                self._refused.append(general(part))
                if len(self._refused) >= REFUSED_BLOCK and not self._hand_over(refusal):
                    return False
                continue
            all_indices, all_lines = part
            for start in range(0, len(all_lines), REFUSED_BLOCK):
                indices: list[int] = []
                results: list[bytes] = []
                dead_letters: list[bytes] = []
                stop = start + REFUSED_BLOCK
                for index, raw in zip(all_indices[start:stop], all_lines[start:stop], strict=True):
                    try:
                        value = loads(raw)
                    except Exception:
                        value = None
                    if plain(value, raw):
                        message_id = value.get("messageId")
                        indices.append(index)
                        results.append(
                            outcome_template % (index, dumps(message_id) if type(message_id) is str else b"null")
                        )
                        dead_letters.append(dead_template % (raw, index))
                    else:
                        self._refused.append(general(SourceRecord(raw, index, index)))
                rendered = RenderedRefusals(indices, b"".join(results), b"".join(dead_letters))
                if not self._hand_over(refusal, rendered):
                    return False
        return True

    def _hand_over(self, refusal: tuple[int, str, str], rendered: RenderedRefusals | None = None) -> bool:
        """Hand the records refused so far (and ``rendered``, records already written out) to
        the coordinator as one block, waiting for room for all of them; False when the
        coordinator takes nothing more."""
        with self._refused_lock:
            records, self._refused = self._refused, []
            self._refused_count += len(records)
        if rendered is not None and not rendered.indices:
            rendered = None
        if rendered is not None:
            self._refused_count += len(rendered.indices)
        if not records and rendered is None:
            return True
        return self._channels.reject(RefusedBlock(records, *refusal, rendered=rendered))

    def _reject(
        self,
        record: SourceRecord,
        message_id: str | None,
        raw: bytes,
        status: int,
        errortype: str,
        text: str,
        origin: int | None = None,
    ) -> None:
        item = Item(record, message_id, raw, None, b"", origin)
        self._channels.reject(Rejected(item, status, errortype, text))

    @staticmethod
    def _refused_record(record: SourceRecord) -> RefusedRecord:
        """What the outcome and dead letter of a refused record need, for any record (the
        common one takes a shortcut in :meth:`_refuse_rest`)."""
        if record.refused is not None:
            return (record, None, record.raw, None, False)
        try:
            decoded, raw, origin = decode_input(record.raw)
        except InvalidRecord as exc:
            return (record, None, exc.raw or record.raw, exc.origin_index, False)
        except Exception:  # whatever the record holds, it still gets its outcome
            return (record, None, record.raw, None, False)
        message_id = message_id_of(decoded)
        plain = type(decoded) is dict and origin is None and record.entry_id is None and record.index is not None
        return (record, message_id, raw, origin, plain)

    def _prepare(self, record: SourceRecord) -> None:
        if record.refused is not None:
            self._reject(record, None, record.raw, *record.refused)
            return
        line = record.raw
        decoded = None
        origin = None
        try:
            decoded, raw, origin = decode_input(line)
            if isinstance(decoded, dict) and may_hold_big_integers(raw):
                decoded = loads_exact(raw)  # integers beyond 64 bits keep their digits
            event = check_event(decoded)
        except InvalidRecord as exc:
            origin = exc.origin_index if origin is None else origin
            self._reject(record, message_id_of(decoded), exc.raw or line, 400, _INVALID, str(exc), origin)
            return
        except Exception as exc:  # the core's checks must not stop the reader, whatever the record
            self._reject(
                record,
                None,
                line,
                400,
                _INVALID,
                f"the record could not be checked: {type(exc).__name__}: {exc}",
                origin,
            )
            return
        message_id = message_id_of(event)
        try:
            payload = self._build(event)
            encoded = dumps_exact(payload)
        except PayloadValidationError as exc:
            self._reject(record, message_id, raw, 400, _INVALID, str(exc), origin)
            return
        except IgnoreEvent as exc:
            self._channels.reject(Skipped(Item(record, message_id, raw, None, b"", origin), exc.reason))
            return
        except Exception as exc:  # a plugin bug fails this event, never the run
            self._reject(
                record,
                message_id,
                raw,
                500,
                _UNKNOWN,
                f"building the payload failed: {type(exc).__name__}: {exc}",
                origin,
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
                origin,
            )
            return
        for batch in self._add(Item(record, message_id, raw, payload, encoded, origin), self._now()):
            if not self._dispatch(batch, wait_for_room=True):
                self._channels.results.put(Unsent(batch))


def _plain_event(value: object, raw: bytes) -> bool:
    """Whether a parsed line is what ``decode_input`` passes through unchanged: a JSON object
    with a ``type`` (so not a dead letter) whose line is too short, or has too few brackets,
    to be nested deeper than ``MAX_DEPTH``."""
    return (
        type(value) is dict
        and "type" in value
        and (len(raw) <= SHALLOW_BYTES or raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH)
    )
