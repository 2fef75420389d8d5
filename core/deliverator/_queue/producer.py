"""``deliverator enqueue``: each record of a JSONL input becomes one entry of the events stream.

Records are added as they are (the raw line under the ``event`` field, never parsed: checking
them is the workers' job, and a bad record gets its failed outcome there like in a file run).
``XADD``s go in pipelines of a thousand, one round trip each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import attrs

from deliverator._queue.connection import EVENT_FIELD
from deliverator._queue.url import QueueUrl

if TYPE_CHECKING:
    import redis

_PIPELINE: Final = 1000


@attrs.define
class Enqueued:
    """What one ``enqueue`` added."""

    count: int = 0
    last_id: str | None = None
    too_long: list[int] = attrs.field(factory=list)
    """1-based line numbers of lines skipped for being longer than the limit."""


def enqueue_lines(client: redis.Redis, url: QueueUrl, lines: Iterable[tuple[bytes, bool]]) -> Enqueued:
    """Add every non-blank line (``(line, fits)`` pairs, as ``iter_lines`` yields them) to the
    events stream; lines that do not fit are skipped and counted."""
    result = Enqueued()
    pipe = client.pipeline(transaction=False)
    queued = 0
    for number, (line, fits) in enumerate(lines, start=1):
        if not fits:
            result.too_long.append(number)
            continue
        record = line.strip()
        if not record:
            continue
        pipe.xadd(url.stream, {EVENT_FIELD: record})
        queued += 1
        if queued == _PIPELINE:
            _send(pipe, result)
            queued = 0
    if queued:
        _send(pipe, result)
    return result


def _send(pipe: redis.client.Pipeline, result: Enqueued) -> None:
    ids = pipe.execute()
    result.count += len(ids)
    result.last_id = ids[-1].decode()
