"""A throwaway ``redis-server`` on a free loopback port, for the test suite and the benchmark.

Nothing is persisted (``--save '' --appendonly no``); its files go to the directory it is
given. It is a real server, so what the queue tests and the scale benchmark see is what a
worker sees in production, minus the network.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Final

from deliverator._queue.connection import connect
from deliverator._queue.url import QueueUrl, parse_queue_url

_START_TIMEOUT_S: Final = 10.0


def redis_server_binary() -> str | None:
    """Where ``redis-server`` is, if it is installed."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A running ``redis-server`` child process (``stop()`` kills it)."""

    def __init__(self, binary: str, directory: Path, *, attempts: int = 3) -> None:
        """Start it; a free port taken by someone else in between is tried ``attempts`` times."""
        for attempt in range(attempts):
            try:
                self._start(binary, directory)
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise

    def _start(self, binary: str, directory: Path) -> None:
        self.port = _free_port()
        log = directory / f"redis-{self.port}.log"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), "--logfile", str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.client = connect(self.url(), read_timeout_s=10)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                self.client.ping()
                return
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"redis-server did not start: {log.read_text() if log.exists() else 'no log'}"
                    ) from None
                time.sleep(0.02)

    def url(self, stream: str = "deliverator:events", group: str = "deliverator") -> QueueUrl:
        """A ``--queue`` URL of this server."""
        return parse_queue_url(f"redis://127.0.0.1:{self.port}/0?stream={stream}&group={group}")

    def stop(self) -> None:
        """Kill the server and wait for it (idempotent)."""
        self.client.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
