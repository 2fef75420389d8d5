"""The outcome sink of a worker: outcome records to ``<stream>:outcomes``, failed events to
``<stream>:dead-letters``, and the entry acknowledged, all in one atomic step.

Each commit runs one Lua script (executed by Redis atomically, like ``MULTI``/``EXEC``: no other
command runs between its writes, and a worker killed while sending it leaves either all of it
or none). For every entry it checks the entry is still pending on this consumer, then
``XADD``s the outcome (and the dead letter) and ``XACK``s the entry. The check is what a plain
``MULTI``/``EXEC`` cannot express: a worker that stalled past ``claim_idle_s`` and lost an
entry to another worker writes nothing for it, so every entry gets exactly one outcome record
however workers die or stall. The check also makes a commit safe to send twice: when the
client re-sends one whose reply was lost, the entries are acknowledged already and nothing is
written again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from deliverator._delivery.sources import OutputError, SourceRecord
from deliverator._queue.connection import RECORD_FIELD, describe_error, redis_module
from deliverator._queue.lease import Lease
from deliverator._queue.url import QueueUrl

if TYPE_CHECKING:
    import redis

_CHUNK: Final = 500
"""Entries per script call: one call keeps Redis busy for its whole length."""

COMMIT_SCRIPT: Final = """
-- KEYS[1] events stream, KEYS[2] outcomes stream, KEYS[3] dead-letter stream
-- ARGV: group, consumer, record field, then (entry id, outcome, dead letter or '') triples.
-- Returns the ids skipped because they were no longer pending on this consumer.
local group, me, field = ARGV[1], ARGV[2], ARGV[3]
local lost = {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  local entry = redis.call('XPENDING', KEYS[1], group, id, id, 1)[1]
  if entry and entry[2] == me then
    redis.call('XADD', KEYS[2], '*', field, ARGV[i + 1])
    if ARGV[i + 2] ~= '' then
      redis.call('XADD', KEYS[3], '*', field, ARGV[i + 2])
    end
    redis.call('XACK', KEYS[1], group, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
"""


class RedisSink:
    """Records a worker's outcomes on the queue and acknowledges their entries."""

    def __init__(self, client: redis.Redis, url: QueueUrl, lease: Lease) -> None:
        self._client = client
        self._url = url
        self._lease = lease
        self._commit: Any = client.register_script(COMMIT_SCRIPT)
        self._pending: list[tuple[bytes, bytes, bytes]] = []
        self.recorded = 0
        """Entries whose outcome this worker wrote (and acknowledged)."""
        self.skipped = 0
        """Outcomes not written because another worker had claimed the entry."""

    def add(self, record: SourceRecord, outcome: bytes, dead_letter: bytes | None) -> None:
        """Buffer one entry's outcome (lines as the core builds them, newline included)."""
        self.add_all([(record, outcome, dead_letter)])

    def add_all(self, outcomes: list[tuple[SourceRecord, bytes, bytes | None]]) -> None:
        """:meth:`add` for a whole burst (the committer's fast path)."""
        append = self._pending.append
        for record, outcome, dead_letter in outcomes:
            token = record.token
            entry_id = token if isinstance(token, bytes) else str(token).encode()
            append((entry_id, outcome.rstrip(b"\n"), dead_letter.rstrip(b"\n") if dead_letter else b""))

    def commit(self) -> None:
        """Write and acknowledge everything added since the last commit; :class:`OutputError`
        when Redis cannot be written (the entries stay pending for another worker)."""
        pending = self._pending
        if not pending:
            return
        url = self._url
        keys = [url.stream, url.outcomes_stream, url.dead_letter_stream]
        head = [url.group, self._lease.consumer, RECORD_FIELD]
        errors = redis_module().RedisError
        while pending:
            chunk = pending[:_CHUNK]
            args: list[object] = list(head)
            for triple in chunk:
                args.extend(triple)
            try:
                lost = self._commit(keys=keys, args=args)
            except errors as exc:
                raise OutputError(f"cannot record outcomes on {url}: {describe_error(exc, url)}") from None
            del pending[: len(chunk)]
            self.skipped += len(lost)
            self.recorded += len(chunk) - len(lost)
            self._lease.drop(entry_id for entry_id, _, _ in chunk)

    def close(self, finished: bool) -> None:
        """Commit what is left; entries still held stay pending and are released to the other
        workers (``finished`` or not: a queue never runs out, so a worker always stops with
        entries nobody will record here)."""
        try:
            self.commit()
        finally:
            self._lease.close()
            try:
                self._lease.release()
            except redis_module().RedisError:
                pass  # Redis is gone: the entries stay pending and are claimed after claim_idle_s
