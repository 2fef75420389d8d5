"""A real ``redis-server`` for the queue tests, started by the suite on a free loopback port.

One server per test session (no persistence: ``--save '' --appendonly no``, its files in a
temporary directory), emptied before every test. Without the binary the queue tests skip,
except when ``CI`` is set: there they fail, so a machine that lost Redis cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from deliverator.queue.url import QueueUrl, parse_queue_url

_START_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A running ``redis-server`` child process."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(directory),
                "--logfile", str(directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.client = redis.Redis(port=self.port, socket_timeout=10)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = directory / "redis.log"
                    raise RuntimeError(
                        f"redis-server did not start: {log.read_text() if log.exists() else 'no log'}"
                    ) from None
                time.sleep(0.02)

    def url(self, stream: str = "deliverator:events", group: str = "deliverator") -> QueueUrl:
        """The ``--queue`` URL of this server."""
        return parse_queue_url(f"redis://127.0.0.1:{self.port}/0?stream={stream}&group={group}")

    def stop(self) -> None:
        """Kill the server and wait for it."""
        self.client.close()
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The session's server (skips, or fails under CI, without the binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (the queue tests need it; apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory(prefix="deliverator-redis-") as directory:
        try:
            server = RedisServer(binary, Path(directory))
        except RuntimeError:  # the free port was taken in between: once more, on another
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
