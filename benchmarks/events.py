"""Deterministic input for every benchmark: N Segment track events as JSONL.

The same N always gives the same bytes, so runs on different days (and the runners within
one run) compare like with like. Events look like a real product's purchase stream: a
messageId, a userId drawn from a few thousand users, an ISO-8601 timestamp and a handful of
properties, one of them a nested ISO-8601 date that a destination may convert.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import orjson

_START: Final = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.UTC)
_USERS: Final = 5_000
_EVENT_NAMES: Final = ("Order Completed", "Product Viewed", "Cart Updated", "Trial Started")
_PLANS: Final = ("free", "starter", "pro", "enterprise")
_CURRENCIES: Final = ("USD", "EUR", "GBP")


def make_event(n: int) -> dict[str, Any]:
    """The n-th event of the stream (a pure function of n)."""
    at = _START + dt.timedelta(seconds=n * 7 % 86_400 * 30, milliseconds=n % 1000)
    renewal = _START + dt.timedelta(days=30 + n % 365)
    return {
        "type": "track",
        "messageId": f"bench-{n:010d}",
        "userId": f"user-{n * 7919 % _USERS:05d}",
        "event": _EVENT_NAMES[n % len(_EVENT_NAMES)],
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "properties": {
            "order_id": f"order-{n}",
            "plan": _PLANS[n % len(_PLANS)],
            "amount": round((n % 10_000) / 7, 2),
            "currency": _CURRENCIES[n % len(_CURRENCIES)],
            "items": n % 9 + 1,
            "renews_at": renewal.isoformat().replace("+00:00", "Z"),
        },
        "context": {"library": {"name": "deliverator-bench", "version": "1"}},
    }


def iter_events(count: int) -> Iterator[dict[str, Any]]:
    """The first ``count`` events of the stream."""
    return (make_event(n) for n in range(count))


def write_events(path: Path, count: int) -> Path:
    """Write the first ``count`` events to ``path`` as JSONL (one object per line)."""
    if count < 0:
        raise ValueError(f"event count must be >= 0, got {count}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb", buffering=1 << 20) as out:
        chunk: list[bytes] = []
        for event in iter_events(count):
            chunk.append(orjson.dumps(event))
            if len(chunk) == 10_000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
    return path


def main() -> None:
    """``python benchmarks/events.py N OUT.jsonl``: write N events for use elsewhere."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    write_events(args.out, args.count)


if __name__ == "__main__":
    main()
