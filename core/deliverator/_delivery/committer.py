"""The committer thread: it hands each burst of outcome records to the run's sink and commits
it, off the coordinator's thread.

A commit writes files and a journal (or a Redis transaction). Each such call gives up the GIL
and must wait to get it back while the preparer is busy, so on the coordinator's thread it
would stall every decision behind disk and network latency. Here the coordinator only buffers
a burst and hands it over; a queue of two bursts keeps memory bounded (the coordinator waits
when the sink falls behind). After each commit the committer lets the burst's senders send
again (durable runs) and gives rejected records' room back to the preparer.
"""

from __future__ import annotations

import queue
import threading
from typing import Final

import attrs

from deliverator._delivery.channels import Channels
from deliverator._delivery.refusal import RenderedRefusals
from deliverator._delivery.sources import OutcomeSink, OutputError, SourceRecord

_BURSTS_AHEAD: Final = 2


@attrs.frozen(slots=True)
class Burst:
    """What the coordinator decided between two commits."""

    outcomes: list[tuple[SourceRecord, bytes, bytes | None]]
    senders: list[threading.Event]
    """Senders waiting for this burst to be committed before their next request."""
    rejections: int
    """Rejected records in this burst: room given back to the preparer once committed."""
    blocks: list[RenderedRefusals] = attrs.field(factory=list)
    """Refused records already written out, for the sink's ``add_block``."""


class BurstBuffer:
    """Collects the outcome records of one burst (what the recorder writes to)."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[SourceRecord, bytes, bytes | None]] = []
        self.blocks: list[RenderedRefusals] = []

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """One record's outcome (and dead letter)."""
        self.outcomes.append((record, outcome, dead_letter))

    def add_block(self, block: RenderedRefusals) -> None:
        """Refused records already written out."""
        self.blocks.append(block)

    def take_blocks(self) -> list[RenderedRefusals]:
        """The blocks added since the last take."""
        blocks, self.blocks = self.blocks, []
        return blocks

    def take(self) -> list[tuple[SourceRecord, bytes, bytes | None]]:
        """Everything added since the last take."""
        outcomes, self.outcomes = self.outcomes, []
        return outcomes


class Committer:
    """The thread that commits bursts to the sink, in order."""

    def __init__(self, sink: OutcomeSink, channels: Channels) -> None:
        self._sink = sink
        self._channels = channels
        self._bursts: queue.Queue[Burst | None] = queue.Queue(_BURSTS_AHEAD)
        self._thread = threading.Thread(target=self._run, name="deliverator-committer", daemon=True)
        self.error: OutputError | None = None
        """Why the sink could not commit, once it could not (nothing is committed after it)."""

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def submit(self, burst: Burst) -> None:
        """Hand ``burst`` over (waits while two bursts are still uncommitted); raises the
        sink's :class:`OutputError` once it has failed."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._bursts.put(burst, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Commit what was handed over and end the thread; raises the sink's error, if any."""
        if self.error is None and self._thread.is_alive():
            self.submit_end()
            self._thread.join()
        if self.error is not None:
            raise self.error

    def submit_end(self) -> None:
        """Tell the thread that no burst follows."""
        while self.error is None and self._thread.is_alive():
            try:
                self._bursts.put(None, timeout=0.2)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        sink, channels = self._sink, self._channels
        add_all = getattr(sink, "add_all", None)  # a sink's optional fast path for a whole burst
        add_block = getattr(sink, "add_block", None)  # blocks come only for a sink that has it
        ending = False
        while not ending:
            bursts: list[Burst] = []
            taken = self._bursts.get()
            # Bursts that queued up while the last commit ran go into one commit.
            while taken is not None:
                bursts.append(taken)
                try:
                    taken = self._bursts.get_nowait()
                except queue.Empty:
                    break
            ending = taken is None
            if not bursts:
                return
            try:
                for burst in bursts:
                    if add_all is not None:
                        add_all(burst.outcomes)
                    else:
                        for record, outcome, dead_letter in burst.outcomes:
                            sink.add(record, outcome, dead_letter)
                    for block in burst.blocks:
                        assert add_block is not None, "refused records in blocks for a sink without add_block"
                        add_block(block.indices, block.results, block.dead_letters)
                sink.commit()
            except OutputError as exc:
                self.error = exc
                # Stop sending at once: whatever is delivered from now on could not be recorded.
                channels.stop.set()
                channels.abandoned.set()
                channels.wake()
                return
            for burst in bursts:
                for sender in burst.senders:
                    sender.set()
                channels.rejected_recorded(burst.rejections)
