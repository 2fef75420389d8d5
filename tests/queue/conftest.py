"""A real ``redis-server`` for the queue tests, started by the suite on a free loopback port.

One server per test session (no persistence: ``--save '' --appendonly no``, its files in a
temporary directory), emptied before every test. Without the binary the queue tests skip,
except when ``CI`` is set: there they fail, so a machine that lost Redis cannot pass silently.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from deliverator._queue.testserver import RedisServer, redis_server_binary
from deliverator._queue.url import QueueUrl


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The session's server (skips, or fails under CI, without the binary)."""
    binary = redis_server_binary()
    if binary is None:
        message = "redis-server is not installed (the queue tests need it; apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory(prefix="deliverator-redis-") as directory:
        server = RedisServer(binary, Path(directory))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> redis.Redis:
    """A client of an emptied server."""
    redis_server.client.flushall()
    return redis_server.client


@pytest.fixture
def queue_url(redis_server: RedisServer, redis_client: redis.Redis) -> QueueUrl:
    """The default stream and group on the emptied server."""
    return redis_server.url()
