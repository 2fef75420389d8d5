"""B: the official Customer.io Python client (``customerio`` on PyPI) sending events one
request each, as its ``track`` call does, against the sink over HTTPS.

Run as a child process by ``run.py``::

    python official_client.py EVENTS.jsonl --count 5000 --host 127.0.0.1 --port PORT

with ``REQUESTS_CA_BUNDLE`` naming the sink's CA. It prints one JSON line: how many events it
sent and how long the sending loop took (start-up and reading excluded: the client's rate is
what counts).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from customerio import CustomerIO, CustomerIOException  # type: ignore[import-untyped]  # the client ships no type hints


def read_events(path: Path, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of the input."""
    with path.open("rb") as lines:
        return [orjson.loads(line) for line in islice(lines, count)]


def send_all(client: CustomerIO, events: list[dict[str, Any]]) -> int:
    """Track every event, one request each; return how many the client reported failed."""
    failures = 0
    for event in events:
        stamp = datetime.fromisoformat(event["timestamp"]).timestamp()
        try:
            client.track(
                customer_id=event["userId"],
                name=event["event"],
                data=event.get("properties") or {},
                id=event.get("messageId"),
                timestamp=int(stamp),
            )
        except CustomerIOException:
            failures += 1
    return failures


def main() -> None:
    """Parse arguments, send, print the timing as JSON."""
    parser = argparse.ArgumentParser(description="B: the official Customer.io client")
    parser.add_argument("input", type=Path)
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events = read_events(args.input, args.count)
    client = CustomerIO(site_id="bench", api_key="bench-key", host=args.host, port=args.port)
    started = time.perf_counter()
    failures = send_all(client, events)
    seconds = time.perf_counter() - started
    client.close()
    print(orjson.dumps({"events": len(events), "failures": failures, "seconds": seconds}).decode())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
