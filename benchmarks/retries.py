"""Retry amplification: does deliverator re-send exactly the items that failed retryably,
once per failure, and nothing else?

The sink (``items`` mode) refuses about 10 % of the item copies it receives with a retryable
503 and answers one request in twenty with a whole-request 503. The ``benchsink`` destination
maps its per-item answers to MultiStatus entries. The sink counts every copy of every id, so:

- re-sent items / retryable failures must be exactly 1.00 (more: duplicates; less: lost);
- requests / the minimum (one per full batch) says what the failures cost in requests.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import orjson

from deliverator_job import run_deliver, write_config
from sink import Sink, SinkStats


@attrs.frozen(kw_only=True)
class RetryResult:
    """What the retry run measured."""

    events: int
    batch_size: int
    sink: SinkStats
    outcomes: dict[str, int]
    attempts_total: int
    max_attempts: int
    seconds: float

    @property
    def resend_ratio(self) -> float:
        """Items re-sent / items that failed retryably (the target is exactly 1.00)."""
        failures = self.sink.retryable_failures
        return self.sink.resent_items / failures if failures else float("nan")

    @property
    def minimum_requests(self) -> int:
        """Requests needed if nothing failed."""
        return math.ceil(self.events / self.batch_size)

    @property
    def request_ratio(self) -> float:
        """Requests made / the minimum."""
        return self.sink.requests / self.minimum_requests if self.events else float("nan")

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the results file."""
        return {
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "requests": self.sink.requests,
            "minimum_requests": self.minimum_requests,
            "request_ratio": round(self.request_ratio, 4),
            "item_arrivals": self.sink.item_arrivals,
            "distinct_items": self.sink.distinct_items,
            "resent_items": self.sink.resent_items,
            "items_refused": self.sink.items_refused,
            "items_in_failed_requests": self.sink.items_in_failed_requests,
            "retryable_failures": self.sink.retryable_failures,
            "resend_ratio": round(self.resend_ratio, 4),
            "outcomes": self.outcomes,
            "attempts_recorded": self.attempts_total,
            "max_attempts": self.max_attempts,
            "sink_statuses": dict(self.sink.statuses),
        }


def run_retry_amplification(
    events_path: Path, events: int, *, work_dir: Path, concurrency: int, tls_ca: Path | None,
    sink: Sink,
) -> RetryResult:
    """Deliver ``events`` events through the faulty sink and count what arrived."""
    delivery: dict[str, Any] = {"concurrency": concurrency}
    if tls_ca is not None:
        delivery["ca_bundle"] = str(tls_ca)
    config = write_config(
        work_dir / "retries.toml",
        {
            "destination": {"name": "benchsink"},
            "destination.settings": {"endpoint": sink.url},
            "delivery": delivery,
            "error_handler": {
                # Enough retries that no item runs out (p(refused 11 times) ~ 1e-11), and a
                # tiny constant wait so the run is quick.
                "max_retries": 10,
                "backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 0.01}],
            },
        },
    )
    results = work_dir / "retries.results.jsonl"
    try:
        usage = run_deliver(events_path, config, results, work_dir, allowed_exits=(0, 1))
    finally:
        stats = sink.stop()
    outcomes: Counter[str] = Counter()
    attempts_total = max_attempts = 0
    with results.open("rb") as lines:
        for line in lines:
            outcome = orjson.loads(line)
            outcomes[str(outcome["outcome"])] += 1
            attempts_total += int(outcome["attempts"])
            max_attempts = max(max_attempts, int(outcome["attempts"]))
    return RetryResult(
        events=events, batch_size=100, sink=stats, outcomes=dict(outcomes),
        attempts_total=attempts_total, max_attempts=max_attempts, seconds=usage.wall_s,
    )
