"""Shared pieces of the queue tests: building the source, lease and sink on a test server."""

from __future__ import annotations

from collections.abc import Iterator

import redis

from deliverator._delivery.sources import SourceRecord
from deliverator._queue.connection import connect
from deliverator._queue.lease import Lease
from deliverator._queue.settings import QueueConfig
from deliverator._queue.sink import RedisSink
from deliverator._queue.source import RedisSource
from deliverator._queue.url import QueueUrl


class Worker:
    """One consumer's source, lease and sink, as ``deliverator worker`` builds them."""

    def __init__(self, url: QueueUrl, consumer: str, settings: QueueConfig | None = None) -> None:
        self.settings = settings or QueueConfig(block_ms=50)
        self.control = connect(url)
        self.reader = connect(url, single_connection=True)
        self.lease = Lease(self.control, url, consumer, self.settings.claim_idle_s)
        self.source = RedisSource(url, self.settings, self.lease, reader=self.reader, control=self.control)
        self.sink = RedisSink(self.control, url, self.lease)
        self._records: Iterator[SourceRecord] | None = None

    def take(self, count: int) -> list[SourceRecord]:
        """The next ``count`` records the source hands out (blocking)."""
        if self._records is None:
            self._records = iter(self.source)
        return [next(self._records) for _ in range(count)]

    def close(self) -> None:
        self.lease.close()
        self.reader.close()
        self.control.close()


def add_events(client: redis.Redis, url: QueueUrl, count: int, start: int = 0) -> list[bytes]:
    """``count`` events with messageIds m-<start>..; returns their entry ids."""
    return [
        client.xadd(url.stream, {b"event": b'{"type":"track","userId":"u","event":"E","messageId":"m-%d"}' % i})
        for i in range(start, start + count)
    ]


def records_of(client: redis.Redis, stream: str) -> list[bytes]:
    """The ``record`` field of every entry of ``stream``."""
    return [fields[b"record"] for _, fields in client.xrange(stream)]


def pending_count(client: redis.Redis, url: QueueUrl) -> int:
    """Entries of the group not acknowledged yet."""
    return int(client.xpending(url.stream, url.group)["pending"])
