"""Turning final fates into outcome records for the run's sink, and counting them.

Only the coordinator thread records, so records never interleave. Recording a second outcome
for one event is a bug in the loop, never something to paper over: it raises
:class:`DoubleOutcome`. (Records refused in blocks, :meth:`OutcomeRecorder.refused`, never
become items: the source hands each out once and the preparer puts it in one block, so there
is nothing to claim twice.)
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from deliverator._delivery.channels import RefusedBlock
from deliverator._delivery.items import Item
from deliverator._delivery.refusal import RefusalTemplates, RenderedRefusals
from deliverator._delivery.sources import SourceRecord
from deliverator._delivery.summary import Summary
from deliverator._encoded import dumps_exact
from deliverator._outcomes import FAILED, IGNORED, dead_letter_line, delivered_line, outcome_line


class DoubleOutcome(AssertionError):
    """An event was about to get a second outcome record (a bug in the delivery loop)."""


class Outcomes(Protocol):
    """Where the recorder puts records: the buffer of the burst being decided."""

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """One record's outcome line, and its dead-letter line when it failed."""
        ...

    def add_block(self, block: RenderedRefusals) -> None:
        """Refused records already written out (see :mod:`deliverator._delivery.refusal`)."""
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
        self.summary.record_delivered()
        record = item.record
        sent_json = item.encoded if sent is None or sent is item.payload else dumps_exact(sent, default=repr)
        if record.entry_id is None and item.origin_index is None:
            line = delivered_line(record.index or 0, item.message_id, status, item.attempts, sent_json, body)
        else:
            line = outcome_line(
                record.index,
                item.message_id,
                "delivered",
                status,
                None,
                None,
                item.attempts,
                orjson.Fragment(sent_json),
                body,
                record.entry_id,
                item.origin_index,
            )
        self._sink.add(record, line, None)

    def ignored(self, item: Item, status: int, errormessage: str | None, body: Any, sent: Any = None) -> None:
        """``item`` was neither delivered nor failed, by choice (an IGNORE filter, the
        destination's ``IgnoredResponse`` or ``IgnoreEvent``)."""
        self._claim(item)
        self.summary.record_ignored(errormessage)
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
            item.origin_index,
        )
        self._sink.add(record, line, None)

    def failed(
        self, item: Item, status: int, errortype: str, errormessage: str, sent: Any = None, body: Any = None
    ) -> None:
        """``item`` failed for good."""
        self._claim(item)
        self.summary.record_failed(errortype, sent=bool(item.attempts))
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
            item.origin_index,
        )
        dead = dead_letter_line(
            item.raw, record.index, status, errortype, errormessage, item.attempts, record.entry_id, item.origin_index
        )
        self._sink.add(record, line, dead)

    def refused(self, block: RefusedBlock) -> None:
        """Every record of ``block`` failed with its (status, errortype, message), never sent:
        byte for byte what :meth:`failed` writes for an item with no attempt, from templates
        filled once per block, since a stopped run may refuse millions of records. Plain
        records the preparer already wrote out go to the sink as one block."""
        status, errortype, errormessage = block.status, block.errortype, block.message
        count = block.count
        if not count:
            return
        summary = self.summary  # what record_failed(errortype, sent=False) counts, for all at once
        summary.failed += count
        summary.failures_by_type[errortype] += count
        summary.unsent_failures_by_type[errortype] += count
        rendered = block.rendered
        if rendered is not None:  # never empty: the preparer hands over None instead
            self._sink.add_block(rendered)
        if not block.records:
            return
        templates = RefusalTemplates.of(status, errortype, errormessage)
        outcome_template, dead_template = templates.outcome, templates.dead_letter
        add = self._sink.add
        dumps = orjson.dumps
        for record, message_id, raw, origin_index, plain in block.records:
            index = record.index
            if plain:
                add(
                    record,
                    outcome_template % (index, b"null" if message_id is None else dumps(message_id)),
                    dead_template % (raw.strip(), index),
                )
                continue
            # A queue entry, a re-delivered dead letter, a line that is not a JSON object: rare,
            # and written exactly as failed() writes them.
            line = outcome_line(
                index, message_id, FAILED, status, errortype, errormessage, 0, None, None, record.entry_id, origin_index
            )
            dead = dead_letter_line(raw, index, status, errortype, errormessage, 0, record.entry_id, origin_index)
            add(record, line, dead)
