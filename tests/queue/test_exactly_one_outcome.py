"""Property: however two workers' reads, take-overs, renewals and commits interleave, no entry
ever gets a second outcome record, and an entry is acknowledged exactly when it has one.

Runs against the real server; each worker is a lease and a sink as ``deliverator worker``
builds them, with the reads and take-overs done by hand so that hypothesis picks the order.
"""

from __future__ import annotations

from collections import Counter

import orjson
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverator._delivery.sources import SourceRecord
from deliverator._queue.connection import connect
from deliverator._queue.lease import Lease
from deliverator._queue.sink import RedisSink
from deliverator._queue.url import QueueUrl
from tests.queue.helpers import add_events

WORKERS = ("a", "b")
operations = st.lists(
    st.tuples(st.sampled_from(("read", "take_over", "renew", "commit")), st.sampled_from(WORKERS)),
    min_size=1,
    max_size=25,
)


def _last_delivered(client: redis.Redis, url: QueueUrl) -> bytes:
    last: bytes = client.xinfo_groups(url.stream)[0]["last-delivered-id"]
    return last


class _Hand:
    """One worker: what it has read (and believes it holds), its lease and its sink."""

    def __init__(self, client: redis.Redis, url: QueueUrl, name: str) -> None:
        self.name = name
        self.lease = Lease(client, url, name, claim_idle_s=30)
        self.sink = RedisSink(client, url, self.lease)
        self.read: list[bytes] = []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_no_entry_ever_gets_two_outcomes(
    redis_client: redis.Redis, queue_url: QueueUrl, steps: list[tuple[str, str]]
) -> None:
    redis_client.flushall()
    add_events(redis_client, queue_url, 4)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    client = connect(queue_url)
    hands = {name: _Hand(client, queue_url, name) for name in WORKERS}
    try:
        for operation, name in steps:
            hand = hands[name]
            if operation == "read":
                reply = redis_client.xreadgroup(queue_url.group, name, {queue_url.stream: ">"}, count=1)
                hand.read += [entry_id for _, entries in reply for entry_id, _ in entries if hand.lease.take(entry_id)]
            elif operation == "take_over":  # the other worker stalled past claim_idle_s
                _, claimed, *_ = redis_client.xautoclaim(queue_url.stream, queue_url.group, name, 0, count=10)
                hand.read += [entry_id for entry_id, _ in claimed if hand.lease.take(entry_id)]
            elif operation == "renew":
                hand.lease.renew()
            else:
                for entry_id in hand.read:
                    record = SourceRecord(raw=b"{}", index=None, token=entry_id, entry_id=entry_id.decode())
                    hand.sink.add(record, orjson.dumps({"entry_id": entry_id.decode()}) + b"\n", None)
                hand.read.clear()
                hand.sink.commit()
            per_entry = Counter(
                orjson.loads(fields[b"record"])["entry_id"]
                for _, fields in redis_client.xrange(queue_url.outcomes_stream)
            )
            assert all(count == 1 for count in per_entry.values())
            pending = {
                row["message_id"]
                for row in redis_client.xpending_range(queue_url.stream, queue_url.group, "-", "+", 10)
            }
            last = _last_delivered(redis_client, queue_url)
            handed_out = [entry_id for entry_id, _ in redis_client.xrange(queue_url.stream, max=last)]
            acknowledged = {entry_id.decode() for entry_id in handed_out if entry_id not in pending}
            assert set(per_entry) == acknowledged  # an outcome exactly for what is acknowledged
    finally:
        for hand in hands.values():
            hand.lease.close()
        client.close()
