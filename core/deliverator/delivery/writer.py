"""Recording outcomes: the results file, the dead-letter file and the counts.

Only the coordinator thread writes, so records never interleave and each event is recorded
exactly once (an item marked ``done`` is never recorded again).
"""

from __future__ import annotations

from typing import IO, Any

import orjson

from deliverator.delivery.items import Item
from deliverator.delivery.summary import Summary
from deliverator.outcomes import FAILED, IGNORED, dead_letter_line, delivered_line, outcome_line


class OutcomeWriter:
    """Writes one outcome record per input record, and a dead letter per failure."""

    def __init__(
        self,
        results: IO[bytes] | None,
        dead_letters: IO[bytes] | None,
    ) -> None:
        self._results = results
        self._dead = dead_letters
        self.summary = Summary()
        self._pending: list[bytes] = []

    def delivered(self, item: Item, status: int, sent: Any, body: Any) -> None:
        """``item`` reached the destination; ``sent`` None means "as posted"."""
        if item.done:
            return
        item.done = True
        self.summary.record_delivered()
        sent_json = item.encoded if sent is None or sent is item.payload else orjson.dumps(sent, default=repr)
        self._pending.append(delivered_line(item.index, item.message_id, status, item.attempts, sent_json, body))

    def ignored(self, item: Item, status: int, errormessage: str | None, body: Any) -> None:
        """``item`` was neither delivered nor failed, by the user's choice (an IGNORE filter)."""
        if item.done:
            return
        item.done = True
        self.summary.record_ignored(errormessage)
        self._pending.append(
            outcome_line(
                item.index, item.message_id, IGNORED, status, None, errormessage, item.attempts, item.payload, body
            )
        )

    def failed(
        self, item: Item, status: int, errortype: str, errormessage: str, sent: Any = None, body: Any = None
    ) -> None:
        """``item`` failed for good."""
        if item.done:
            return
        item.done = True
        self.summary.record_failed(errortype, sent=bool(item.attempts))
        self._pending.append(
            outcome_line(
                item.index, item.message_id, FAILED, status, errortype, errormessage, item.attempts, sent, body
            )
        )
        if self._dead is not None:
            self._dead.write(dead_letter_line(item.raw, item.index, status, errortype, errormessage, item.attempts))

    def commit(self) -> None:
        """Write the records collected since the last commit (one write for many records)."""
        if self._pending:
            if self._results is not None:
                self._results.write(b"".join(self._pending))
            self._pending.clear()

    def flush(self) -> None:
        """Write everything pending and push buffered records to the files."""
        self.commit()
        for stream in (self._results, self._dead):
            if stream is not None:
                stream.flush()
