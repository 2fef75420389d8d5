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

from deliverator.classification import Classification
from deliverator.delivery.items import Item
from deliverator.http import HttpResponse
from deliverator.multistatus import MultiStatusResponse

MAX_REJECTED_WAITING: Final = 4096
"""Rejected records the preparer may have handed over and the coordinator not yet recorded."""


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


Message = Rejected | Skipped | ReaderDone | ReaderBlocked | Sent | Unsent


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
        self._rejected = threading.Semaphore(MAX_REJECTED_WAITING)
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

    def reject(self, message: Rejected | Skipped) -> bool:
        """Hand a rejected record to the coordinator, waiting while too many are unrecorded;
        False when the coordinator stopped taking messages meanwhile."""
        while not self._rejected.acquire(timeout=0.2):
            if self.abandoned.is_set():
                return False
        self.results.put(message)
        return True

    def rejected_recorded(self, count: int) -> None:
        """The coordinator committed ``count`` rejected records: room for as many more."""
        if count:
            self._rejected.release(count)

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
