"""``deliverator outcomes``: the records of the outcomes (or dead-letter) stream as JSONL.

Each entry holds one JSON record under ``record``; they are written out in stream order, one
per line, so the output of ``--dead-letters`` is a dead-letter file (valid ``deliverator
deliver`` input). ``follow`` keeps waiting for new records after the last one, like
``tail -f``, until :meth:`RecordReader.stop`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from deliverator._queue.connection import RECORD_FIELD

if TYPE_CHECKING:
    import redis

_PAGE: Final = 1000
_FOLLOW_BLOCK_MS: Final = 1000


class RecordReader:
    """Reads one stream of records from its beginning."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._client = client
        self._stream = stream
        self._stopped = threading.Event()

    def stop(self) -> None:
        """End a ``follow`` within a second."""
        self._stopped.set()

    def records(self, follow: bool = False) -> Iterator[bytes]:
        """Every record (JSON, no newline), oldest first; then, with ``follow``, new ones as
        they come."""
        start, last = b"-", b"0-0"
        while True:
            page: Any = self._client.xrange(self._stream, min=start, max="+", count=_PAGE)
            for entry_id, fields in page:
                last = entry_id
                record = fields.get(RECORD_FIELD)
                if record is not None:
                    yield record
            if len(page) < _PAGE:
                break
            start = b"(" + last
        if not follow:
            return
        after = last
        while not self._stopped.is_set():
            reply: Any = self._client.xread({self._stream: after}, count=_PAGE, block=_FOLLOW_BLOCK_MS)
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    after = entry_id
                    record = fields.get(RECORD_FIELD)
                    if record is not None:
                        yield record
