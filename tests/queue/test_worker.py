"""``deliverator worker`` in real processes against a real Redis and a loopback destination:
exactly one outcome per entry, failover after SIGKILL, poison messages, graceful stop, and
dead letters that ``deliver`` takes back."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import orjson
import redis

from deliverator._queue.testserver import RedisServer, redis_server_binary
from deliverator._queue.url import QueueUrl
from deliverator.testing import ScriptedResponse, ScriptedServer
from tests.queue.workers import (
    TokenService,
    WorkerProcess,
    enqueue,
    outcomes,
    pending_on,
    wait_until,
    write_config,
)
from tests.services import track
from tests.support import cli_env, run_cli


def test_a_worker_records_one_outcome_per_entry_and_retries_inside_itself(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    events: list[object] = [track(i) for i in range(20)]
    events[3] = "not json"
    events[9] = "   "  # a blank entry still gets its (failed) outcome
    ids = enqueue(redis_client, queue_url, events)
    with TokenService(items={"m-5": (503, 200), "m-7": (400,)}) as service:
        config = write_config(tmp_path / "w.toml", service.url)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= 20, "every outcome")
            assert worker.stop() == 0, worker.log
    records = {record["entry_id"]: record for record in outcomes(redis_client, queue_url)}
    assert sorted(records) == sorted(ids)
    assert redis_client.xlen(queue_url.outcomes_stream) == 20
    assert all(record["index"] is None for record in records.values())
    assert records[ids[5]]["outcome"] == "delivered" and records[ids[5]]["attempts"] == 2
    assert records[ids[7]]["outcome"] == "failed" and records[ids[7]]["status"] == 400
    for invalid in (ids[3], ids[9]):
        assert records[invalid]["outcome"] == "failed" and records[invalid]["errortype"] == "PAYLOAD_VALIDATION_FAILED"
    dead = outcomes(redis_client, queue_url, queue_url.dead_letter_stream)
    assert sorted(letter["entry_id"] for letter in dead) == sorted([ids[3], ids[7], ids[9]])
    assert pending_on(redis_client, queue_url) == set()
    assert "17 delivered, 3 failed, 0 ignored" in worker.log


def test_two_workers_one_killed_mid_run_every_entry_gets_exactly_one_outcome(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    total = 300
    ids = enqueue(redis_client, queue_url, [track(i) for i in range(total)])
    entry_of = {f"m-{i}": entry_id for i, entry_id in enumerate(ids)}
    # Slow answers, so the killed worker always has requests in flight.
    with TokenService(delay_s=0.05) as service:
        config = write_config(tmp_path / "w.toml", service.url, batch_size=5, concurrency=2, claim_idle_s=2)
        with (
            WorkerProcess(example_site, config, queue_url, "doomed") as doomed,
            WorkerProcess(example_site, config, queue_url, "survivor") as survivor,
        ):
            wait_until(
                lambda: sum(1 for r in outcomes(redis_client, queue_url) if r["outcome"]) >= total // 5,
                "both workers to be delivering",
            )
            doomed.process.send_signal(signal.SIGKILL)
            doomed.wait()
            # Its entries renew every claim_idle_s / 3: none can have been claimed yet.
            held_at_death = pending_on(redis_client, queue_url, "doomed")
            wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= total, "every outcome", 120)
            assert survivor.stop() == 0, survivor.log
    records = outcomes(redis_client, queue_url)
    per_entry = Counter(record["entry_id"] for record in records)
    assert set(per_entry) == set(ids) and set(per_entry.values()) == {1}  # exactly one outcome each
    assert all(record["outcome"] == "delivered" for record in records)
    assert pending_on(redis_client, queue_url) == set()
    arrivals = service.arrivals()
    assert set(arrivals) == set(entry_of)  # every event arrived at least once
    duplicated = {item_id for item_id, count in arrivals.items() if count > 1}
    senders = service.senders()
    # A duplicate is an event the killed worker had sent and not recorded: pending on it at its death.
    assert all("doomed" in senders[item_id] and entry_of[item_id] in held_at_death for item_id in duplicated)
    assert all(len(service.bodies()[item_id]) == 1 for item_id in duplicated)  # the same item, same dedup id
    assert len(duplicated) <= 2 * 5  # at most its in-flight requests: concurrency x batch_size
    assert held_at_death  # the kill did leave work to take over...
    assert "claimed from other workers" in survivor.log  # ...and the survivor took it over
    only_survivor = {entry_of[item_id] for item_id in arrivals if senders[item_id] == {"survivor"}}
    assert set(ids) - only_survivor  # the killed worker had delivered some before it died


def test_an_entry_whose_workers_kept_dying_fails_as_poison_unsent(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    (entry_id,) = enqueue(redis_client, queue_url, [track(1)])
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "crashed", {queue_url.stream: ">"})
    # As if ten workers in turn had died holding it, the last one long ago.
    redis_client.xclaim(queue_url.stream, queue_url.group, "crashed", 0, [entry_id], idle=60_000, retrycount=10)
    with TokenService() as service:
        config = write_config(tmp_path / "w.toml", service.url)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= 1, "the outcome")
            assert worker.stop() == 0, worker.log
    (record,) = outcomes(redis_client, queue_url)
    assert (record["entry_id"], record["outcome"], record["status"]) == (entry_id, "failed", 508)
    assert record["errortype"] == "LOOP_DETECTED" and "poison message" in record["errormessage"]
    assert record["attempts"] == 0 and service.copies == []
    (dead,) = outcomes(redis_client, queue_url, queue_url.dead_letter_stream)
    assert dead["event"]["messageId"] == "m-1"
    assert pending_on(redis_client, queue_url) == set()
    assert "1 poison messages" in worker.log


def test_sigterm_finishes_in_flight_requests_and_leaves_the_rest_pending(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    ids = enqueue(redis_client, queue_url, [track(i) for i in range(60)])
    with TokenService(delay_s=0.3) as service:
        config = write_config(tmp_path / "w.toml", service.url, batch_size=5, concurrency=1)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            wait_until(lambda: len(service.copies) >= 5, "the first request")
            assert worker.stop() == 0, worker.log
        sent = set(service.arrivals())
        records = outcomes(redis_client, queue_url)
        recorded = {record["entry_id"] for record in records}
        pending = pending_on(redis_client, queue_url)
        assert {record["outcome"] for record in records} == {"delivered"}  # nothing recorded as cancelled
        assert recorded == {ids[int(item_id[2:])] for item_id in sent}  # every request sent was finished
        assert pending and pending == set(ids) - recorded  # the rest is pending, not acknowledged
        with WorkerProcess(example_site, config, queue_url, "w2") as successor:
            wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= 60, "the rest")
            assert successor.stop() == 0, successor.log
    assert Counter(record["entry_id"] for record in outcomes(redis_client, queue_url)) == Counter(ids)


def test_dead_letters_of_the_queue_are_valid_deliver_input(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    refused = {"m-2": (400,), "m-4": (422,)}
    enqueue(redis_client, queue_url, [track(i) for i in range(6)])
    with TokenService(items=refused) as service:
        config = write_config(tmp_path / "w.toml", service.url)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= 6, "every outcome")
            assert worker.stop() == 0, worker.log
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    dead = run_cli(["outcomes", "--queue", str(queue_url), "--dead-letters"], env)
    assert dead.returncode == 0, dead.stderr
    letters = tmp_path / "dead.jsonl"
    letters.write_text(dead.stdout)
    with TokenService() as fixed:
        config = write_config(tmp_path / "fixed.toml", fixed.url)
        proc = run_cli(["deliver", str(letters), "--config", str(config), "--no-progress"], env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert set(fixed.arrivals()) == set(refused)
    delivered = [orjson.loads(line) for line in (tmp_path / "dead.results.jsonl").read_bytes().splitlines()]
    assert sorted(record["message_id"] for record in delivered) == ["m-2", "m-4"]
    assert all(record["outcome"] == "delivered" for record in delivered)


def test_a_worker_whose_redis_goes_away_exits_1_naming_it(
    tmp_path: Path, example_site: Path, redis_server: RedisServer
) -> None:
    binary = redis_server_binary()
    assert binary is not None
    doomed = RedisServer(binary, tmp_path)  # its own server, to be killed
    try:
        url = doomed.url()
        with TokenService() as service:
            config = write_config(tmp_path / "w.toml", service.url)
            with WorkerProcess(example_site, config, url, "w1") as worker:
                wait_until(lambda: doomed.client.exists(url.stream) == 1, "the worker to join")
                doomed.process.kill()
                assert worker.wait(timeout=120) == 1
    finally:
        doomed.stop()
    assert "ConnectionError" in worker.log and f"127.0.0.1:{doomed.port}" in worker.log
    assert "Traceback" not in worker.log


def test_a_worker_holds_no_more_than_its_loop_can_hold(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    enqueue(redis_client, queue_url, [track(i) for i in range(1000)])
    # A slow destination: the loop fills up and stops asking the source for more.
    with TokenService(delay_s=0.05) as service:
        config = write_config(tmp_path / "w.toml", service.url, batch_size=5, concurrency=1, read_count=10)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            wait_until(lambda: len(service.copies) >= 50, "the loop to be full")
            held: list[int] = []

            def sampled_enough() -> bool:
                held.append(len(pending_on(redis_client, queue_url, "w1")))
                return len(service.copies) >= 150

            wait_until(sampled_enough, "100 more events to be sent")
            assert worker.stop() == 0, worker.log
    # concurrency 1: 5 batches of 5 out at most, a closed batch waiting for room, one read of 10,
    # and answered batches recorded but not yet committed (acknowledged): at most the 5 again.
    assert max(held) <= 5 * 5 + 5 + 10 + 5 * 5
    assert redis_client.xlen(queue_url.outcomes_stream) < 1000


def test_a_retry_waiting_longer_than_claim_idle_s_stays_with_its_worker(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    (entry_id,) = enqueue(redis_client, queue_url, [track(1)])
    with TokenService(items={"m-1": (503, 200)}) as service:
        # The retry waits 2.5 s, the other worker may claim what is idle for 1 s.
        config = write_config(tmp_path / "w.toml", service.url, claim_idle_s=1, backoff_s=2.5)
        with WorkerProcess(example_site, config, queue_url, "owner") as owner:
            wait_until(lambda: len(service.copies) == 1, "the first attempt")
            with WorkerProcess(example_site, config, queue_url, "other") as other:
                wait_until(lambda: redis_client.xlen(queue_url.outcomes_stream) >= 1, "the outcome")
                assert other.stop() == 0, other.log
            assert owner.stop() == 0, owner.log
    (record,) = outcomes(redis_client, queue_url)
    assert (record["entry_id"], record["outcome"], record["attempts"]) == (entry_id, "delivered", 2)
    assert [token for token, _, _ in service.copies] == ["owner", "owner"]


def test_a_rejected_api_key_stops_the_worker_without_dead_lettering_the_queue(
    tmp_path: Path, example_site: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    ids = enqueue(redis_client, queue_url, [track(i) for i in range(500)])
    with ScriptedServer([ScriptedResponse(status=401, body={"error": "bad key"})]) as service:
        config = write_config(tmp_path / "w.toml", service.url, batch_size=5, concurrency=2)
        with WorkerProcess(example_site, config, queue_url, "w1") as worker:
            assert worker.wait(timeout=120) == 1
    records = outcomes(redis_client, queue_url)
    sent = {item["id"] for request in service.requests for item in request.json()["items"]}
    # What was answered 401 is recorded as such; nothing unsent is failed, the rest waits.
    assert {record["message_id"] for record in records} == sent
    assert {(record["outcome"], record["status"]) for record in records} == {("failed", 401)}
    assert len(records) <= 2 * 5  # at most the requests in flight when the first answer came
    assert pending_on(redis_client, queue_url) | {r["entry_id"] for r in records} <= set(ids)
    unread = redis_client.xinfo_groups(queue_url.stream)[0]["lag"]
    assert len(pending_on(redis_client, queue_url)) + unread + len(records) == 500
    assert "stopped: the destination answered 401" in worker.log
