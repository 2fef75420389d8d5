"""The queues, messages and shared counters that connect the preparer, the senders and the
coordinator.

Batches travel preparer/coordinator -> senders through a queue whose room is capped; every
other message travels to the coordinator through one results queue, so only the coordinator
records outcomes. What holds memory is capped in one place, :class:`Channels`: batches out
(queued, in flight, answered and not yet recorded) plus events waiting for a retry count
against one limit, and records rejected by the preparer against another, so neither an outage
nor a stream of invalid lines can make a run grow.
"""

from __future__ import annotations

import queue
import threading
from typing import Final

import attrs

from deliverator._classification import Classification
from deliverator._delivery.items import Item
from deliverator._delivery.refusal import RenderedRefusals
from deliverator._delivery.sources import SourceRecord
from deliverator._http import HttpResponse
from deliverator._multistatus import MultiStatusResponse

MAX_REJECTED_WAITING: Final = 4096
"""Rejected records the preparer may have handed over and the coordinator not yet recorded."""

REFUSED_BLOCK: Final = 1024
"""Records refused per :class:`RefusedBlock` (at most :data:`MAX_REJECTED_WAITING`, since a
block takes room for each of its records)."""

RefusedRecord = tuple[SourceRecord, str | None, bytes, int | None, bool]
"""One refused record: (record, its ``messageId`` or None, the original line its dead letter
keeps, its ``origin_index`` or None, *plain*). Plain: a file's record (an index, no queue
entry) whose line is a JSON object and not a re-delivered dead letter, the common case, whose
records are filled in from templates. A tuple rather than a class because a stopped run may
refuse millions of them: it is the cheapest value to build."""


@attrs.frozen(slots=True)
class Rejected:
    """An event that is never sendable (invalid, too large, refused by its source)."""

    item: Item
    status: int
    errortype: str
    message: str


@attrs.frozen(slots=True)
class Skipped:
    """An event the destination deliberately does not take (``IgnoreEvent``): never sent."""

    item: Item
    reason: str


@attrs.frozen(slots=True)
class RefusedBlock:
    """Records read after the run stopped, each to be recorded failed with (``status``,
    ``errortype``, ``message``) without being sent: standard input or a file read once when
    the run is cancelled, every record after an answer that stops the run.

    One message for many records, so that refusing the rest of a long input costs a few
    microseconds per record rather than a message, a lock and an item each.
    """

    records: list[RefusedRecord]
    status: int
    errortype: str
    message: str
    rendered: RenderedRefusals | None = None
    """Plain records of a file already written out, besides ``records`` (see
    :mod:`deliverator._delivery.refusal`)."""

    @property
    def count(self) -> int:
        """Records in the block, both kinds."""
        return len(self.records) + (0 if self.rendered is None else len(self.rendered.indices))


@attrs.frozen(slots=True)
class ReaderDone:
    """The preparer has handed over everything it will: ``records`` read in all; ``error``
    says why reading ended early, if it did; ``exhausted``: the source reached its end."""

    records: int
    error: str | None
    exhausted: bool


@attrs.frozen(slots=True)
class ReaderBlocked:
    """The preparer waits for room: nothing more arrives from it until something settles."""


@attrs.frozen(slots=True)
class Sent:
    """A sender's account of one request."""

    batch: list[Item]
    response: HttpResponse | None
    error: BaseException | None
    classification: Classification
    statuses: MultiStatusResponse | None
    committed: threading.Event | None = None
    """Set by the coordinator once what this answer decided is committed (durable runs: the
    sender waits for it before its next request, so that a crash can re-send at most the
    requests in flight)."""


@attrs.frozen(slots=True)
class Unsent:
    """A batch a sender did not send because the run is stopping."""

    batch: list[Item]


Message = Rejected | Skipped | RefusedBlock | ReaderDone | ReaderBlocked | Sent | Unsent


class Channels:
    """Shared plumbing of one run."""

    def __init__(self, concurrency: int, batch_items: int = 1, *, gated: bool = True) -> None:
        # Unbounded on purpose: the cap on outstanding batches below is the backpressure, and a
        # SimpleQueue hands batches over without Python-level locking.
        self.batches: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.stop = threading.Event()
        """Set when the run stops (cancelled, a fatal answer, outcomes that cannot be written):
        the preparer stops preparing, senders stop sending."""
        self.halt = threading.Event()
        """Set by the sender that met an answer which stops the run: no sender starts another
        request, before the coordinator has even read that answer."""
        self.abandoned = threading.Event()
        """Set when the coordinator takes nothing more (outcomes cannot be written, or a
        stopping run gave up waiting): the preparer stops waiting for room."""
        self.max_outstanding = concurrency * 3 + 2
        """Batches the preparer may have out (queued, in flight, answered and not yet recorded,
        or their events waiting for a retry) before it waits: what keeps memory flat when
        recording falls behind or the destination is down."""
        self._batch_items = max(1, batch_items)
        self._room = threading.Condition()
        self._in_flight: dict[int, list[Item]] = {}
        self._waiting_items = 0
        self._rejected_room = MAX_REJECTED_WAITING
        self._rejected_changed = threading.Condition(threading.Lock())
        self.reader_blocked = False
        self.gated = gated
        """Senders wait for each answer's outcomes to be committed before the next request:
        a crash of a durable run then re-sends at most the requests in flight, and outcomes
        that cannot be written stop the run before more is delivered than can be recorded."""

    def _full(self) -> bool:
        waiting_batches = -(-self._waiting_items // self._batch_items)
        return len(self._in_flight) + waiting_batches >= self.max_outstanding

    def dispatch(self, batch: list[Item], wait_for_room: bool = False) -> bool:
        """Hand ``batch`` to the senders; False (batch not taken) when the run stopped while
        the preparer was waiting for room.

        The preparer passes ``wait_for_room`` so that it waits while too much is out; the
        coordinator never waits for room (it is the one that makes room).
        """
        with self._room:
            if wait_for_room and self._full():
                self.reader_blocked = True
                self.results.put(ReaderBlocked())
                try:
                    while self._full():
                        if self.stop.is_set():
                            return False
                        self._room.wait(0.2)
                finally:
                    self.reader_blocked = False
            self._in_flight[id(batch)] = batch
        self.batches.put(batch)
        return True

    def settle(self, batch: list[Item]) -> None:
        """``batch`` is back with the coordinator: no longer in flight."""
        with self._room:
            self._in_flight.pop(id(batch), None)
            self._room.notify()

    def waiting(self, change: int) -> None:
        """``change`` more (or fewer, when negative) events wait for a retry."""
        with self._room:
            self._waiting_items += change
            if change < 0:
                self._room.notify()

    def reject(self, message: Rejected | Skipped | RefusedBlock) -> bool:
        """Hand rejected records to the coordinator (a block counts as its records), waiting
        while too many are unrecorded; False when the coordinator stopped taking messages
        meanwhile."""
        count = message.count if type(message) is RefusedBlock else 1
        with self._rejected_changed:
            while self._rejected_room < count:
                if self.abandoned.is_set():
                    return False
                self._rejected_changed.wait(0.2)
            self._rejected_room -= count
        self.results.put(message)
        return True

    def rejected_recorded(self, count: int) -> None:
        """The coordinator committed ``count`` rejected records: room for as many more."""
        if count:
            with self._rejected_changed:
                self._rejected_room += count
                self._rejected_changed.notify_all()

    @property
    def outstanding(self) -> int:
        """Batches dispatched and not yet settled."""
        return len(self._in_flight)

    def unsettled(self) -> list[list[Item]]:
        """Every batch still out (used once, when a stopping run gives up waiting)."""
        with self._room:
            batches = list(self._in_flight.values())
            self._in_flight.clear()
            self._room.notify_all()
            return batches

    def wake(self) -> None:
        """Wake a preparer waiting for room (the run is stopping)."""
        with self._room:
            self._room.notify_all()
