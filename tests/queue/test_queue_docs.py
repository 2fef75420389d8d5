"""docs/queue.md stays true: every ``deliverator`` command line it shows parses with the real
CLI, and every Redis command in its monitoring section runs against a real server."""

from __future__ import annotations

import re
import shlex

import click
import orjson
import redis

from deliverator._cli import cli
from deliverator._queue.url import QueueUrl
from tests.queue.workers import enqueue
from tests.services import track
from tests.support import REPO

GUIDE = (REPO / "docs" / "queue.md").read_text()


def _blocks(text: str) -> list[str]:
    return re.findall(r"```\n(.*?)```", text, flags=re.S)


def _command_lines(prefix: str, text: str) -> list[list[str]]:
    lines = []
    for block in _blocks(text):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip().removesuffix("&").strip()
            line = re.split(r"\s+>>?\s+", line)[0]  # output redirection
            if line.startswith(prefix):
                lines.append(shlex.split(line))
    return lines


def test_every_deliverator_command_in_the_guide_parses() -> None:
    commands = [  # command lines, not the picture's labels or a synopsis with [OPTIONS]
        argv
        for argv in _command_lines("deliverator ", GUIDE)
        if re.fullmatch(r"[a-z-]+", argv[1]) and not any(arg.startswith("[") for arg in argv)
    ]
    assert {argv[1] for argv in commands} >= {"enqueue", "worker", "outcomes"}
    for argv in commands:
        command = cli.get_command(click.Context(cli), argv[1])
        assert command is not None, argv
        command.make_context(argv[1], argv[2:])  # raises on an unknown or missing option


def test_every_monitoring_command_in_the_guide_runs(redis_client: redis.Redis, queue_url: QueueUrl) -> None:
    enqueue(redis_client, queue_url, [track(1)])
    redis_client.xgroup_create(queue_url.stream, queue_url.group, id="0")
    redis_client.xreadgroup(queue_url.group, "NAME", {queue_url.stream: ">"})
    monitoring = GUIDE.split("## Monitoring", 1)[1]
    commands = _command_lines("X", monitoring)
    assert len(commands) >= 5
    connection = redis_client.connection_pool.get_connection()
    try:
        for argv in commands:  # sent raw: the client's reply parsers expect the forms it builds
            connection.send_command(*argv)
            connection.read_response()  # raises on a wrong command or argument
    finally:
        redis_client.connection_pool.release(connection)


def test_the_guide_producer_example_adds_an_event_a_worker_can_read(
    redis_client: redis.Redis, queue_url: QueueUrl
) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.S)
    code = example.replace("redis://localhost:6379/0", f"redis://127.0.0.1:{queue_url.port}/0")
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/queue.md", "exec"), namespace)
    ((entry_id, fields),) = redis_client.xrange(queue_url.stream)
    assert entry_id == namespace["entry_id"]
    assert orjson.loads(fields[b"event"])["messageId"] == "m-1"
