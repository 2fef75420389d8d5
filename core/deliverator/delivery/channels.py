"""The queues and shared counters that connect the reader, the senders and the coordinator.

Batches travel reader/coordinator -> senders through a bounded queue (backpressure keeps memory
flat however long the input); everything else travels to the coordinator through one results
queue, so only the coordinator records outcomes.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Final

from deliverator.delivery.items import Item

# Kinds of message on the results queue (the first element of each tuple).
REJECTED: Final = "rejected"  # (REJECTED, item, status, errortype, message): never sendable
NOT_TAKEN: Final = "not_taken"  # (NOT_TAKEN, item, reason): build_payload raised IgnoreEvent
READER_DONE: Final = "reader_done"  # (READER_DONE, records_read, error_or_None)
SENT: Final = "sent"  # (SENT, batch, response, error, classification, statuses)
UNSENT: Final = "unsent"  # (UNSENT, batch): not sent because the run is stopping


class Channels:
    """Shared plumbing of one run."""

    def __init__(self, concurrency: int) -> None:
        # Unbounded on purpose: the cap on outstanding batches below is the backpressure, and a
        # SimpleQueue hands batches over without Python-level locking.
        self.batches: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.max_outstanding = concurrency * 3 + 2
        """Batches the reader may have out (queued, in flight, or answered and not yet
        recorded) before it waits: what keeps memory flat when recording falls behind."""
        self._room = threading.Condition()
        self._in_flight: dict[int, list[Item]] = {}

    def dispatch(self, batch: list[Item], wait_for_room: bool = False) -> bool:
        """Hand ``batch`` to the senders; False (batch not taken) when the run stopped while
        the reader was waiting for room.

        The reader passes ``wait_for_room`` so that it waits while too many batches are out;
        the coordinator never waits for room (it is the one that makes room).
        """
        with self._room:
            while wait_for_room and len(self._in_flight) >= self.max_outstanding:
                if self.stop.is_set():
                    return False
                self._room.wait(0.2)
            self._in_flight[id(batch)] = batch
        self.batches.put(batch)
        return True

    def settle(self, batch: list[Item]) -> None:
        """``batch`` is back with the coordinator: no longer in flight."""
        with self._room:
            self._in_flight.pop(id(batch), None)
            self._room.notify()

    @property
    def outstanding(self) -> int:
        """Batches dispatched and not yet settled."""
        return len(self._in_flight)

    def unsettled(self) -> list[list[Item]]:
        """Every batch still out (used once, when a cancelled run gives up waiting)."""
        with self._room:
            batches = list(self._in_flight.values())
            self._in_flight.clear()
            self._room.notify_all()
            return batches
