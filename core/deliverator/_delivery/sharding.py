"""How a file run is shared among delivery processes, and what the parent tells each one.

One ``deliver FILE`` process runs its reader, senders and coordinator on one GIL, so it uses
about one core. A run over several processes gives each *delivery process* a share of the
records, interleaved by chunks (records ``0..511`` to the first, ``512..1023`` to the second,
and so on): every process reads the whole file, which is cheap, and keeps the records' indices
without a first pass to find where a byte range starts counting. Each one is a whole delivery
loop with its own senders; the parent writes the one results file, the one dead-letter file
and the journal (:mod:`deliverator._delivery.shards`).

Everything here is plain data, imported by both sides.
"""

from __future__ import annotations

import os
from collections.abc import Container
from typing import Final

import attrs

from deliverator._config import Config, DeliveryConfig

CHUNK: Final = 512
"""Consecutive records that go to the same process: large enough that each process fills whole
batches from its own records, small enough that the shares stay even."""

MIN_BYTES_PER_PROCESS: Final = 4 * 1024 * 1024
"""With ``processes = "auto"``, an input gets one process per this many bytes at most. Starting
a delivery process costs about a third of a CPU second (an interpreter, the plugin), what one
process spends delivering about 10,000 events: a smaller input is faster in one process."""


def available_cpus() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def process_count(delivery: DeliveryConfig, input_size: int, cpus: int) -> int:
    """How many delivery processes a file run of ``input_size`` bytes uses.

    Never more than the requests allowed in flight (each process needs one), and one when
    ``max_requests_per_second`` is set: one token bucket keeps the run's rate exact, and a
    paced run is not short of CPU.
    """
    if delivery.max_requests_per_second is not None:
        return 1
    asked = delivery.processes
    wanted = min(cpus, max(1, input_size // MIN_BYTES_PER_PROCESS)) if asked == "auto" else asked
    return max(1, min(wanted, delivery.sender_threads))


def share(total: int, count: int, number: int) -> int:
    """Process ``number``'s part of ``total`` split as evenly as whole numbers allow."""
    return total // count + (1 if number < total % count else 0)


def config_for(config: Config, count: int, number: int) -> Config:
    """The configuration delivery process ``number`` of ``count`` runs with: its part of the
    requests in flight (or of the adaptive limit's ceiling), one process."""
    delivery = config.delivery
    if delivery.adaptive:
        ceiling = share(delivery.sender_threads, count, number)
        mine = attrs.evolve(delivery, max_concurrency=ceiling, processes=1)
    else:
        mine = attrs.evolve(delivery, concurrency=share(delivery.sender_threads, count, number), processes=1)
    return attrs.evolve(config, delivery=mine)


@attrs.frozen(kw_only=True)
class ShardTask:
    """What the parent sends a delivery process first: everything it needs to run its share."""

    config: Config
    input: str
    number: int
    count: int
    done: list[tuple[int, int]]
    """The records (inclusive index ranges) that already have an outcome: an interrupted run's."""


class ShareOf(Container[int]):
    """The records a delivery process must *not* send: other processes' chunks, and those that
    already have an outcome. It is the ``done`` of that process's file source."""

    def __init__(self, number: int, count: int, done: list[tuple[int, int]]) -> None:
        self._number = number
        self._count = count
        self._done = {
            index for first, last in done for index in range(first, last + 1) if self.owns(index)
        }

    def owns(self, index: int) -> bool:
        """Whether the record at ``index`` is in this process's share."""
        return (index // CHUNK) % self._count == self._number

    def __contains__(self, index: object) -> bool:  # called for every line: no type check
        return (index // CHUNK) % self._count != self._number or index in self._done  # type: ignore[operator]  # an index


# Messages, as tuples whose first item says what they are (pickled over a socket pair).
BURST: Final = "burst"
"""process -> parent: ``(BURST, indices, results, dead_letters)``: outcome lines to record;
the parent answers ``(COMMITTED,)`` once they are in the files and the journal, or
``(REFUSED, message, broken_pipe)`` when it cannot write them."""
PROGRESS: Final = "progress"
"""process -> parent: ``(PROGRESS, summary, bytes_read)``, a few times a second."""
DONE: Final = "done"
"""process -> parent: ``(DONE, summary)``, its last message."""
FAILED: Final = "failed"
"""process -> parent: ``(FAILED, message)``: it could not start its run."""
COMMITTED: Final = "committed"
REFUSED: Final = "refused"
