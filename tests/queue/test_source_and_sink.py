"""The Redis source and sink against a real server, below the delivery loop: what is read,
claimed, refused, recorded and acknowledged."""

from __future__ import annotations

import threading

import orjson
import redis

from deliverator._queue.settings import QueueConfig
from deliverator._queue.url import QueueUrl
from tests.queue.helpers import Worker, add_events, pending_count, records_of


def _outcome(entry_id: str, outcome: str = "delivered") -> bytes:
    return orjson.dumps({"index": None, "entry_id": entry_id, "outcome": outcome}) + b"\n"


def test_new_entries_are_handed_out_in_order_as_queue_records(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    ids = add_events(redis_client, queue_url, 3)
    worker = Worker(queue_url, "w1")
    try:
        records = worker.take(3)
    finally:
        worker.close()
    assert [r.token for r in records] == ids
    assert [r.entry_id for r in records] == [i.decode() for i in ids]
    assert all(r.index is None and r.refused is None for r in records)
    assert orjson.loads(records[1].raw)["messageId"] == "m-1"
    assert pending_count(redis_client, queue_url) == 3


def test_commit_writes_outcome_and_dead_letter_and_acknowledges(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    add_events(redis_client, queue_url, 2)
    worker = Worker(queue_url, "w1")
    try:
        good, bad = worker.take(2)
        worker.sink.add(good, _outcome(str(good.entry_id)), None)
        worker.sink.add(bad, _outcome(str(bad.entry_id), "failed"), b'{"event":{"type":"track"}}\n')
        assert pending_count(redis_client, queue_url) == 2  # nothing is acknowledged before commit
        worker.sink.commit()
    finally:
        worker.close()
    outcomes = [orjson.loads(r) for r in records_of(redis_client, queue_url.outcomes_stream)]
    assert [o["entry_id"] for o in outcomes] == [good.entry_id, bad.entry_id]
    assert records_of(redis_client, queue_url.dead_letter_stream) == [b'{"event":{"type":"track"}}']
    assert pending_count(redis_client, queue_url) == 0
    assert worker.sink.recorded == 2


def test_an_entry_claimed_by_another_worker_gets_no_second_outcome(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    add_events(redis_client, queue_url, 1)
    stalled = Worker(queue_url, "stalled")
    rescuer = Worker(queue_url, "rescuer", QueueConfig(block_ms=50, claim_idle_s=30))
    try:
        (mine,) = stalled.take(1)
        # The stalled worker went quiet for longer than claim_idle_s: its entry looks idle.
        redis_client.xclaim(queue_url.stream, queue_url.group, "stalled", 0, [mine.token], idle=60_000, justid=True)
        (rescued,) = rescuer.take(1)
        assert rescued.token == mine.token
        rescuer.sink.add(rescued, _outcome(str(rescued.entry_id)), None)
        rescuer.sink.commit()
        stalled.sink.add(mine, _outcome(str(mine.entry_id)), None)  # it wakes up and finishes too
        stalled.sink.commit()
    finally:
        stalled.close()
        rescuer.close()
    assert len(records_of(redis_client, queue_url.outcomes_stream)) == 1
    assert (rescuer.sink.recorded, stalled.sink.skipped) == (1, 1)
    assert rescuer.source.claimed == 1


def test_entries_of_a_dead_consumer_are_claimed_once_idle(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    ids = add_events(redis_client, queue_url, 3)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "dead", {queue_url.stream: ">"}, count=2)
    redis_client.xclaim(queue_url.stream, queue_url.group, "dead", 0, ids[:2], idle=31_000, justid=True)
    worker = Worker(queue_url, "live")
    try:
        records = worker.take(3)
    finally:
        worker.close()
    assert sorted(r.token for r in records) == ids
    assert all(r.refused is None for r in records)
    owners = {
        p["message_id"]: p["consumer"]
        for p in redis_client.xpending_range(queue_url.stream, queue_url.group, "-", "+", 10)
    }
    assert set(owners.values()) == {b"live"}
    assert worker.source.claimed == 2


def test_a_recently_read_entry_of_another_consumer_is_left_alone(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    ids = add_events(redis_client, queue_url, 2)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "busy", {queue_url.stream: ">"}, count=1)
    worker = Worker(queue_url, "live")
    try:
        (record,) = worker.take(1)
    finally:
        worker.close()
    assert record.token == ids[1]
    assert worker.source.claimed == 0


def test_an_entry_delivered_too_often_is_refused_as_poison(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    (entry,) = add_events(redis_client, queue_url, 1)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "crashed", {queue_url.stream: ">"}, count=1)
    # Ten workers already died holding it; the next claim is its 11th delivery.
    redis_client.xclaim(
        queue_url.stream, queue_url.group, "crashed", 0, [entry], idle=60_000, retrycount=10, justid=True
    )
    worker = Worker(queue_url, "live", QueueConfig(block_ms=50, max_deliveries=10))
    try:
        (record,) = worker.take(1)
    finally:
        worker.close()
    assert record.refused is not None
    status, errortype, message = record.refused
    assert (status, errortype) == (508, "LOOP_DETECTED")
    assert "poison message" in message and "delivered 11 times" in message and "max_deliveries = 10" in message
    assert orjson.loads(record.raw)["messageId"] == "m-0"
    assert worker.source.poisoned == 1


def test_an_entry_at_the_limit_is_still_delivered(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    (entry,) = add_events(redis_client, queue_url, 1)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "crashed", {queue_url.stream: ">"}, count=1)
    redis_client.xclaim(
        queue_url.stream, queue_url.group, "crashed", 0, [entry], idle=60_000, retrycount=9, justid=True
    )
    worker = Worker(queue_url, "live", QueueConfig(block_ms=50, max_deliveries=10))
    try:
        (record,) = worker.take(1)
    finally:
        worker.close()
    assert record.refused is None


def test_an_entry_without_an_event_field_is_refused_not_crashed_on(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    redis_client.xadd(queue_url.stream, {b"payload": b"{}"})
    worker = Worker(queue_url, "w1")
    try:
        (record,) = worker.take(1)
    finally:
        worker.close()
    assert record.refused is not None and record.refused[0] == 400
    assert "no 'event' field" in record.refused[2] and "payload" in record.refused[2]


def test_stop_ends_a_blocked_read(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    worker = Worker(queue_url, "w1", QueueConfig(block_ms=10_000))
    seen: list[object] = []
    reading = threading.Thread(target=lambda: seen.extend(worker.source))
    reading.start()
    try:
        while not redis_client.exists(queue_url.stream):  # the source has created its group
            threading.Event().wait(0.01)
        worker.source.stop()
        reading.join(timeout=30)
        assert not reading.is_alive()
    finally:
        worker.source.stop()
        worker.close()
    assert seen == []


def test_renewing_keeps_held_entries_from_looking_idle(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    (entry,) = add_events(redis_client, queue_url, 1)
    worker = Worker(queue_url, "w1")
    try:
        worker.take(1)
        redis_client.xclaim(queue_url.stream, queue_url.group, "w1", 0, [entry], idle=60_000, justid=True)
        worker.lease.renew()
    finally:
        worker.close()
    (pending,) = redis_client.xpending_range(queue_url.stream, queue_url.group, "-", "+", 1)
    assert pending["time_since_delivered"] < 60_000
    assert pending["times_delivered"] == 1  # renewing is not a delivery


def test_renewing_never_takes_back_an_entry_another_worker_claimed(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    (entry,) = add_events(redis_client, queue_url, 1)
    worker = Worker(queue_url, "w1")
    try:
        worker.take(1)
        redis_client.xclaim(queue_url.stream, queue_url.group, "other", 0, [entry], justid=True)
        worker.lease.renew()
    finally:
        worker.close()
    (pending,) = redis_client.xpending_range(queue_url.stream, queue_url.group, "-", "+", 1)
    assert pending["consumer"] == b"other"
    assert worker.lease.lost == 1 and worker.lease.held() == []


def test_closing_unfinished_leaves_entries_pending_and_claimable_at_once(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    add_events(redis_client, queue_url, 2)
    worker = Worker(queue_url, "stopping")
    try:
        done, unfinished = worker.take(2)
        worker.sink.add(done, _outcome(str(done.entry_id)), None)
        worker.sink.close(finished=False)
    finally:
        worker.close()
    (pending,) = redis_client.xpending_range(queue_url.stream, queue_url.group, "-", "+", 10)
    assert pending["message_id"] == unfinished.token and pending["consumer"] == b"stopping"
    assert len(records_of(redis_client, queue_url.outcomes_stream)) == 1
    successor = Worker(queue_url, "next")  # default claim_idle_s = 30: claimable now all the same
    try:
        (record,) = successor.take(1)
    finally:
        successor.close()
    assert record.token == unfinished.token


def test_a_pending_entry_trimmed_from_the_stream_is_counted_not_handed_out(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    ids = add_events(redis_client, queue_url, 2)
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "dead", {queue_url.stream: ">"}, count=2)
    redis_client.xclaim(queue_url.stream, queue_url.group, "dead", 0, ids, idle=60_000, justid=True)
    redis_client.xdel(queue_url.stream, ids[0])
    worker = Worker(queue_url, "live")
    try:
        (record,) = worker.take(1)
    finally:
        worker.close()
    assert record.token == ids[1]
    assert worker.source.deleted == 1


def test_a_commit_sent_twice_writes_nothing_twice(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    add_events(redis_client, queue_url, 1)
    worker = Worker(queue_url, "w1")
    try:
        (record,) = worker.take(1)
        for _ in range(2):  # as when the client re-sends a commit whose reply was lost
            worker.sink.add(record, _outcome(str(record.entry_id), "failed"), b'{"event":{}}\n')
            worker.sink.commit()
    finally:
        worker.close()
    assert len(records_of(redis_client, queue_url.outcomes_stream)) == 1
    assert len(records_of(redis_client, queue_url.dead_letter_stream)) == 1
    assert (worker.sink.recorded, worker.sink.skipped) == (1, 1)
