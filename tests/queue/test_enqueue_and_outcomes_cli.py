"""``deliverator enqueue`` and ``deliverator outcomes`` in real processes against a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import orjson
import redis

from deliverator._queue.testserver import RedisServer
from deliverator._queue.url import QueueUrl
from tests.support import cli_env, run_cli


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_enqueue_adds_each_record_as_it_is_and_prints_count_and_last_id(
    tmp_path: Path, redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    lines = [b'{"type":"track","messageId":"m-1"}', b"", b"not json at all", b'  {"type":"identify"}  ']
    proc = run_cli(["enqueue", str(_write(tmp_path / "in.jsonl", lines)), "--queue", str(queue_url)], cli_env())
    assert proc.returncode == 0, proc.stderr
    entries = redis_client.xrange(queue_url.stream)
    assert [fields[b"event"] for _, fields in entries] == [
        b'{"type":"track","messageId":"m-1"}',
        b"not json at all",
        b'{"type":"identify"}',
    ]
    last = entries[-1][0].decode()
    assert proc.stdout.strip() == f"enqueued 3 records to deliverator:events (last id {last})"


def test_enqueue_reads_stdin_and_honours_the_stream_name(redis_server: RedisServer, redis_client: redis.Redis) -> None:
    url = redis_server.url(stream="shop:events")
    proc = run_cli(["enqueue", "-", "--queue", str(url)], cli_env(), stdin=b'{"a":1}\n{"a":2}\n')
    assert proc.returncode == 0, proc.stderr
    assert redis_client.xlen("shop:events") == 2
    assert not redis_client.exists("deliverator:events")


def test_enqueue_of_an_empty_input_adds_nothing(tmp_path: Path, redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    proc = run_cli(["enqueue", str(tmp_path / "empty.jsonl"), "--queue", str(queue_url)], cli_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "enqueued 0 records to deliverator:events"


def test_an_unreachable_queue_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    events = _write(tmp_path / "in.jsonl", [b"{}"])
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = run_cli(["enqueue", str(events), "--queue", f"redis://:hunter2@127.0.0.1:{port}/0"], cli_env())
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr and "ConnectionError" in proc.stderr
    assert "hunter2" not in proc.stderr


def test_a_bad_queue_url_is_exit_2_naming_the_problem(tmp_path: Path) -> None:
    proc = run_cli(["outcomes", "--queue", "redis://localhost/0?topic=x"], cli_env())
    assert proc.returncode == 2
    assert "unknown queue URL parameter 'topic'" in proc.stderr and "Traceback" not in proc.stderr


def test_without_the_redis_client_the_error_names_the_extra(tmp_path: Path, queue_url: QueueUrl) -> None:
    events = _write(tmp_path / "in.jsonl", [b"{}"])
    # sys.modules["redis"] = None makes "import redis" fail as if it were not installed.
    program = "import sys; sys.modules['redis'] = None; from deliverator._cli import main; main(sys.argv[1:])"
    proc = subprocess.run(
        [sys.executable, "-c", program, "enqueue", str(events), "--queue", str(queue_url)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "pip install 'deliverator[redis]'" in proc.stderr and "Traceback" not in proc.stderr


def test_outcomes_prints_each_record_as_a_json_line_in_stream_order(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    records = [orjson.dumps({"index": None, "entry_id": f"1-{i}", "outcome": "delivered"}) for i in range(1200)]
    pipe = redis_client.pipeline(transaction=False)
    for record in records:
        pipe.xadd(queue_url.outcomes_stream, {b"record": record})
    pipe.execute()
    redis_client.xadd(queue_url.dead_letter_stream, {b"record": b'{"event":{"type":"track"}}'})
    proc = run_cli(["outcomes", "--queue", str(queue_url)], cli_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.encode().splitlines() == records  # more than one page of XRANGE
    dead = run_cli(["outcomes", "--queue", str(queue_url), "--dead-letters"], cli_env())
    assert dead.stdout == '{"event":{"type":"track"}}\n'


def test_outcomes_of_a_queue_without_outcomes_prints_nothing(queue_url: QueueUrl) -> None:
    proc = run_cli(["outcomes", "--queue", str(queue_url)], cli_env())
    assert (proc.returncode, proc.stdout) == (0, "")


def test_outcomes_follow_prints_new_records_until_stopped(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    redis_client.xadd(queue_url.outcomes_stream, {b"record": b'{"n":1}'})
    follower = subprocess.Popen(
        [sys.executable, "-m", "deliverator", "outcomes", "--queue", str(queue_url), "--follow"],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == b'{"n":1}\n'
        redis_client.xadd(queue_url.outcomes_stream, {b"record": b'{"n":2}'})
        assert follower.stdout.readline() == b'{"n":2}\n'
        follower.terminate()
        assert follower.wait(timeout=30) == 0
    finally:
        follower.kill()
        follower.wait()
