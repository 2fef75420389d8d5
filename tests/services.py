"""A scripted service speaking the docs' example protocol, for loop and CLI tests.

It answers ``POST /v1/batch`` with one result per item, choosing each item's status from a
per-item script (by the item's ``id``), and records every item it was sent.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer

ItemScript = Mapping[str, Sequence[int]]
"""For an item id, the statuses of its successive attempts (the last one repeats)."""


class ExampleService:
    """Per-item answers from a script; whole-request answers from ``request_script``."""

    def __init__(
        self,
        items: ItemScript | None = None,
        request_script: Callable[[int], ScriptedResponse | None] | None = None,
    ) -> None:
        self._items = items or {}
        self._request_script = request_script
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.resent_after_success = 0
        self.requests = 0
        self.server = ScriptedServer(self._answer)

    def __enter__(self) -> ExampleService:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests += 1
            number = self.requests
        if self._request_script is not None:
            scripted = self._request_script(number)
            if scripted is not None:
                return scripted
        items: list[dict[str, Any]] = orjson.loads(request.body)["items"]
        results = []
        with self._lock:
            for item in items:
                item_id = item["id"]
                if self.delivered[item_id]:
                    self.resent_after_success += 1
                attempt = self.sent[item_id]
                self.sent[item_id] += 1
                script = self._items.get(item_id, (200,))
                status = script[min(attempt, len(script) - 1)]
                if status < 300:
                    self.delivered[item_id] += 1
                    results.append({"status": status})
                else:
                    results.append({"status": status, "error": f"scripted {status}"})
        return ScriptedResponse(status=200, body={"results": results})


def track(i: int, **extra: Any) -> dict[str, Any]:
    """A valid track event with messageId ``m-<i>``."""
    return {"type": "track", "userId": f"u{i}", "event": "Clicked", "messageId": f"m-{i}", **extra}


def jsonl(records: Sequence[Any]) -> bytes:
    """Records as JSONL (strings are written as raw lines)."""
    return b"".join((r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n" for r in records)
