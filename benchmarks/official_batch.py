"""B': the official Customer.io Python client used well: its own ``CustomerIO.batch()`` call,
100 operations a request, the events mapped to v2 operations by a few lines of user code.

This is what a user who knows the client writes instead of deliverator, so it is the honest
reference point (B, one ``track`` request per event, measures batching against none). Run as a
child process by ``run.py``::

    python official_batch.py EVENTS.jsonl --host 127.0.0.1 --port PORT [--threads 4]

with ``REQUESTS_CA_BUNDLE`` naming the sink's CA. Timed as a whole process, like A and C':
start-up, reading, mapping and sending. It prints one JSON line with its counts. It writes no
outcome records: the client raises on a failed request and says nothing per event.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from customerio import CustomerIO, CustomerIOException  # type: ignore[import-untyped]  # the client ships no type hints

OPERATIONS_PER_REQUEST = 100


def operation(event: dict[str, Any]) -> dict[str, Any]:
    """The user's mapping: one Segment track event as one v2 ``person`` ``event`` operation."""
    return {
        "type": "person",
        "action": "event",
        "identifiers": {"id": event["userId"]},
        "name": event["event"],
        "id": event.get("messageId"),
        "timestamp": int(datetime.fromisoformat(event["timestamp"]).timestamp()),
        "attributes": event.get("properties") or {},
    }


def batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The input's events mapped, 100 a list."""
    batch: list[dict[str, Any]] = []
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                batch.append(operation(orjson.loads(line)))
                if len(batch) == OPERATIONS_PER_REQUEST:
                    yield batch
                    batch = []
    if batch:
        yield batch


def main() -> None:
    """Parse arguments, map and send every event, print the counts as JSON."""
    parser = argparse.ArgumentParser(description="B': the official client's batch() call")
    parser.add_argument("input", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    events = requests = failures = 0

    def client() -> CustomerIO:
        return CustomerIO(site_id="bench", api_key="bench-key", host=args.host, port=args.port)

    if args.threads == 1:
        cio = client()
        for batch in batches(args.input):
            try:
                cio.batch(batch)
            except CustomerIOException:
                failures += 1
            events, requests = events + len(batch), requests + 1
        cio.close()
    else:
        # One client per thread: a requests Session is not meant to be shared across threads.
        local = threading.local()

        def send(batch: list[dict[str, Any]]) -> bool:
            if not hasattr(local, "cio"):
                local.cio = client()
            try:
                local.cio.batch(batch)
            except CustomerIOException:
                return False
            return True

        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            pending: list[tuple[int, Any]] = []
            for batch in batches(args.input):
                pending.append((len(batch), pool.submit(send, batch)))
                if len(pending) >= 4 * args.threads:  # bounded, as a user would: no unbounded backlog
                    size, future = pending.pop(0)
                    events, requests, failures = events + size, requests + 1, failures + (not future.result())
            for size, future in pending:
                events, requests, failures = events + size, requests + 1, failures + (not future.result())
    print(orjson.dumps({"events": events, "requests": requests, "failures": failures}).decode())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
