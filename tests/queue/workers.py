"""Real ``deliverator worker`` processes and a loopback service that tells them apart.

The service speaks the docs' example protocol and records every item it receives with the
token of the worker that sent it, so a test can say which worker sent each copy of an event.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
import redis

from deliverator._queue.url import QueueUrl
from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.support import cli_env

CONFIG = """
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "${{EXAMPLE_TOKEN}}"

[delivery]
batch_size = {batch_size}
concurrency = {concurrency}
linger_s = 0.02

[error_handler]
max_retries = 3
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = {backoff_s} }}]

[queue]
claim_idle_s = {claim_idle_s}
read_count = {read_count}
block_ms = 100
"""


class TokenService:
    """Per-item answers (``items``: statuses of successive attempts by id, the last repeats),
    an optional delay per request, and every item copy recorded as (token, id, item)."""

    def __init__(self, items: Mapping[str, Sequence[int]] | None = None, delay_s: float = 0.0) -> None:
        self._items = items or {}
        self._delay_s = delay_s
        self._lock = threading.Lock()
        self.copies: list[tuple[str, str, bytes]] = []
        self._seen: Counter[str] = Counter()
        self.server = ScriptedServer(self._answer)

    def __enter__(self) -> TokenService:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def arrivals(self) -> Counter[str]:
        """How many copies of each id arrived."""
        with self._lock:
            return Counter(item_id for _, item_id, _ in self.copies)

    def senders(self) -> dict[str, set[str]]:
        """Which tokens sent each id."""
        result: dict[str, set[str]] = defaultdict(set)
        with self._lock:
            for token, item_id, _ in self.copies:
                result[item_id].add(token)
        return result

    def bodies(self) -> dict[str, set[bytes]]:
        """The distinct encodings each id arrived in."""
        result: dict[str, set[bytes]] = defaultdict(set)
        with self._lock:
            for _, item_id, item in self.copies:
                result[item_id].add(item)
        return result

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        items: list[dict[str, Any]] = orjson.loads(request.body)["items"]
        results = []
        with self._lock:
            for item in items:
                item_id = item["id"]
                attempt = self._seen[item_id]
                self._seen[item_id] += 1
                self.copies.append((token, item_id, orjson.dumps(item, option=orjson.OPT_SORT_KEYS)))
                script = self._items.get(item_id, (200,))
                status = script[min(attempt, len(script) - 1)]
                error = {} if status < 300 else {"error": f"scripted {status}"}
                results.append({"status": status, **error})
        return ScriptedResponse(status=200, body={"results": results}, delay_s=self._delay_s)


def write_config(
    path: Path,
    url: str,
    *,
    batch_size: int = 5,
    concurrency: int = 2,
    claim_idle_s: float = 30,
    read_count: int = 200,
    backoff_s: float = 0.05,
) -> Path:
    path.write_text(
        CONFIG.format(
            url=url,
            batch_size=batch_size,
            concurrency=concurrency,
            claim_idle_s=claim_idle_s,
            read_count=read_count,
            backoff_s=backoff_s,
        )
    )
    return path


class WorkerProcess:
    """``deliverator worker`` in a real process, its stderr kept in a file."""

    def __init__(self, site: Path, config: Path, url: QueueUrl, name: str, token: str | None = None) -> None:
        self.name = name
        self.log_path = config.parent / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = cli_env(site, extra={"EXAMPLE_TOKEN": token or name})
        argv = [sys.executable, "-m", "deliverator", "worker", "--config", str(config), "--queue", str(url)]
        self.process = subprocess.Popen([*argv, "--consumer", name], env=env, stdout=self._log, stderr=self._log)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit code."""
        self.process.terminate()
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self._log.close()
        return code

    @property
    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL: no chance to record anything more."""
        self.process.kill()
        self.wait()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll ``condition`` until true; fail the test naming ``what`` after a generous timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def outcomes(client: redis.Redis, url: QueueUrl, stream: str | None = None) -> list[dict[str, Any]]:
    """Every record of the outcomes stream (or ``stream``), parsed."""
    return [orjson.loads(fields[b"record"]) for _, fields in client.xrange(stream or url.outcomes_stream)]


def enqueue(client: redis.Redis, url: QueueUrl, records: Sequence[Any]) -> list[str]:
    """Add records (dicts as JSON, strings as raw lines) as events; returns their entry ids."""
    pipe = client.pipeline(transaction=False)
    for record in records:
        pipe.xadd(url.stream, {b"event": record.encode() if isinstance(record, str) else orjson.dumps(record)})
    return [entry_id.decode() for entry_id in pipe.execute()]


def pending_on(client: redis.Redis, url: QueueUrl, consumer: str | None = None) -> set[str]:
    """Ids of the entries pending (on ``consumer``, or on anyone)."""
    rows = client.xpending_range(url.stream, url.group, "-", "+", 100_000, consumername=consumer)
    return {row["message_id"].decode() for row in rows}
