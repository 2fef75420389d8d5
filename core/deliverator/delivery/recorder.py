"""Turning final fates into outcome records for the run's sink, and counting them.

Only the coordinator thread records, so records never interleave. Recording a second outcome
for one event is a bug in the loop, never something to paper over: it raises
:class:`DoubleOutcome`.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from deliverator.delivery.items import Item
from deliverator.delivery.sources import SourceRecord
from deliverator.delivery.summary import Summary
from deliverator.encoded import dumps_exact
from deliverator.outcomes import FAILED, IGNORED, dead_letter_line, delivered_line, outcome_line


class DoubleOutcome(AssertionError):
    """An event was about to get a second outcome record (a bug in the delivery loop)."""


class Outcomes(Protocol):
    """Where the recorder puts records: a sink, or the buffer of the burst being decided."""

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """One record's outcome line, and its dead-letter line when it failed."""
        ...


class OutcomeRecorder:
    """Builds one outcome record per event (and a dead letter per failure) for the sink."""

    def __init__(self, sink: Outcomes, summary: Summary | None = None) -> None:
        self._sink = sink
        self.summary = summary if summary is not None else Summary()

    def _claim(self, item: Item) -> None:
        if item.done:
            raise DoubleOutcome(f"a second outcome for the same event: {item!r}")
        item.done = True

    def delivered(self, item: Item, status: int, sent: Any, body: Any) -> None:
        """``item`` reached the destination; ``sent`` None means "as posted"."""
        self._claim(item)
        self.summary.delivered += 1
        record = item.record
        sent_json = item.encoded if sent is None or sent is item.payload else dumps_exact(sent, default=repr)
        if record.entry_id is None:
            line = delivered_line(record.index or 0, item.message_id, status, item.attempts, sent_json, body)
        else:
            line = outcome_line(
                None,
                item.message_id,
                "delivered",
                status,
                None,
                None,
                item.attempts,
                orjson.Fragment(sent_json),
                body,
                record.entry_id,
            )
        self._sink.add(record, line, None)

    def ignored(self, item: Item, status: int, errormessage: str | None, body: Any, sent: Any = None) -> None:
        """``item`` was neither delivered nor failed, by choice (an IGNORE filter, the
        destination's ``IgnoredResponse`` or ``IgnoreEvent``)."""
        self._claim(item)
        self.summary.ignored += 1
        record = item.record
        line = outcome_line(
            record.index,
            item.message_id,
            IGNORED,
            status,
            None,
            errormessage,
            item.attempts,
            sent,
            body,
            record.entry_id,
        )
        self._sink.add(record, line, None)

    def failed(
        self, item: Item, status: int, errortype: str, errormessage: str, sent: Any = None, body: Any = None
    ) -> None:
        """``item`` failed for good."""
        self._claim(item)
        summary = self.summary
        summary.failed += 1
        summary.failures_by_type[errortype] += 1
        if not item.attempts:
            summary.unsent_failures_by_type[errortype] += 1
        record = item.record
        line = outcome_line(
            record.index,
            item.message_id,
            FAILED,
            status,
            errortype,
            errormessage,
            item.attempts,
            sent,
            body,
            record.entry_id,
        )
        dead = dead_letter_line(item.raw, record.index, status, errortype, errormessage, item.attempts, record.entry_id)
        self._sink.add(record, line, dead)
