"""Counting outcome records as they stream past, in memory that does not grow with the file.

Counters keyed by outcome, status, error type and attempts stay small (their keys are few).
Error messages can be as many as the events, so they are kept with the *lossy counting*
scheme: at most :data:`MESSAGE_CAPACITY` distinct messages are tracked, and when twice that
many have been seen the least frequent half is dropped. Frequent messages are never dropped;
a count is exact unless its message was dropped once (then ``exact`` is False on the tally).
Each message keeps the first event seen with it as its sample, cut to :data:`SAMPLE_CHARS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import attrs
import orjson

MESSAGE_CAPACITY: Final = 2_000
SAMPLE_CHARS: Final = 4_000
MAX_ATTEMPTS_BUCKET: Final = 20
"""Attempts at or above this are counted together (``20+``)."""

NO_ERROR_TYPE: Final = "(none)"


@attrs.define(kw_only=True)
class MessageGroup:
    """Events that ended with the same outcome, error type and message."""

    outcome: str
    errortype: str | None
    message: str
    count: int = 0
    status: int | None = None
    sample_index: int | None = None
    sample_sent: str = "null"
    """The sample event's ``sent`` (what the destination was sent), as JSON text."""
    sample_body: str = "null"
    """What the destination answered about the sample event, as JSON text."""


@attrs.define(kw_only=True)
class Tally:
    """Counts of one results file."""

    records: int = 0
    unreadable: int = 0
    """Lines that were not an outcome record (not JSON, or not an object)."""
    by_outcome: Counter[str] = attrs.field(factory=Counter)
    by_status: Counter[int] = attrs.field(factory=Counter)
    by_errortype: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    """(outcome, error type) -> events."""
    attempts: Counter[int] = attrs.field(factory=Counter)
    exact: bool = True
    """False once some rare message was dropped (its count, if it came back, is low)."""
    _messages: dict[tuple[str, str | None, str], MessageGroup] = attrs.field(factory=dict, init=False)

    def add_line(self, line: bytes) -> None:
        """Count one line of a results file (blank lines are skipped)."""
        if not line.strip():
            return
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.unreadable += 1
            return
        if not isinstance(record, dict):
            self.unreadable += 1
            return
        self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        """Count one outcome record."""
        self.records += 1
        outcome = str(record.get("outcome"))
        errortype = record.get("errortype")
        status = record.get("status")
        self.by_outcome[outcome] += 1
        if isinstance(status, int):
            self.by_status[status] += 1
        self.by_errortype[(outcome, str(errortype) if errortype else NO_ERROR_TYPE)] += 1
        attempts = record.get("attempts")
        if isinstance(attempts, int):
            self.attempts[min(attempts, MAX_ATTEMPTS_BUCKET)] += 1
        message = record.get("errormessage")
        if outcome != "delivered" and message:
            self._count_message(outcome, str(errortype) if errortype else None, str(message), record)

    def _count_message(self, outcome: str, errortype: str | None, message: str, record: dict[str, Any]) -> None:
        key = (outcome, errortype, message)
        group = self._messages.get(key)
        if group is None:
            index = record.get("index")
            group = MessageGroup(
                outcome=outcome,
                errortype=errortype,
                message=message,
                status=record.get("status") if isinstance(record.get("status"), int) else None,
                sample_index=index if isinstance(index, int) else None,
                sample_sent=_sample(record.get("sent")),
                sample_body=_sample(record.get("body")),
            )
            self._messages[key] = group
            if len(self._messages) > 2 * MESSAGE_CAPACITY:
                self._prune()
        group.count += 1

    def _prune(self) -> None:
        kept = sorted(self._messages.items(), key=lambda item: item[1].count, reverse=True)[:MESSAGE_CAPACITY]
        self._messages = dict(kept)
        self.exact = False

    def top_messages(self, limit: int = 20) -> list[MessageGroup]:
        """The most frequent messages, most frequent first."""
        return sorted(self._messages.values(), key=lambda group: (-group.count, group.message))[:limit]

    @property
    def tracked_messages(self) -> int:
        """Distinct messages held right now (bounded by twice :data:`MESSAGE_CAPACITY`)."""
        return len(self._messages)


def _sample(value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS] + "\n… (cut)"


def tally_lines(lines: Iterable[bytes]) -> Tally:
    """Count an iterable of results lines."""
    tally = Tally()
    for line in lines:
        tally.add_line(line)
    return tally


def tally_file(path: Path | None) -> Tally:
    """Count a results file as a stream (None: standard input)."""
    if path is None:
        import sys

        return tally_lines(_lines(sys.stdin.buffer))
    with path.open("rb") as stream:
        return tally_lines(_lines(stream))


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    yield from stream
