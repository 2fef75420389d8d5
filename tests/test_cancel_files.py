"""Issue 9, point 7: cancelling a file run is quick however much of the file is unread, in real
processes with real signals. A file delivered to standard output (no journal) records every
unread record 499 CANCELLED, in blocks; a journaled run writes none of them (they stay
pending); a quiet pipe cancelled loses none of what it had read."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.services import jsonl, track
from tests.support import cli_env
from tests.test_cli import write_config

LINES = 200_000
"""Big enough that refusing the unread records one message at a time took several seconds
more than in blocks; small enough to keep each test to a few seconds."""

_HANG_GUARD_S = 120
_UNREAD = "the run was cancelled before this event was sent"


def slow_service() -> ScriptedServer:
    """Takes every item, after 0.3 s: requests are still in flight when the signal comes."""

    def answer(request: RecordedRequest) -> ScriptedResponse:
        items = orjson.loads(request.body)["items"]
        return ScriptedResponse(status=200, body={"results": [{"status": 200}] * len(items)}, delay_s=0.3)

    return ScriptedServer(answer)


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok-123-secret"})


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "events.jsonl"
    path.write_bytes(jsonl([track(i) for i in range(LINES)]))
    return path


def _start(args: list[str], env: dict[str, str], cwd: Path, **streams: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "deliverator", *args], env=env, cwd=cwd, stderr=subprocess.PIPE, **streams
    )


def _terminate_after_the_first_request(proc: subprocess.Popen[bytes], service: ScriptedServer) -> bytes:
    """SIGTERM once a request has reached the service; the process's stderr."""
    deadline = time.monotonic() + _HANG_GUARD_S
    while not service.requests and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=_HANG_GUARD_S)
    return stderr


def _records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_sigterm_on_a_file_delivered_to_stdout_cancels_every_unread_record_once(
    tmp_path: Path, env: dict[str, str], big_input: Path
) -> None:
    out, dead = tmp_path / "out.jsonl", tmp_path / "dead.jsonl"
    with slow_service() as service, out.open("wb") as stdout:
        config = write_config(tmp_path, service.url)
        args = ["deliver", str(big_input), "--config", str(config), "--no-progress"]
        proc = _start([*args, "--results", "-", "--dead-letter", str(dead)], env, tmp_path, stdout=stdout)
        stderr = _terminate_after_the_first_request(proc, service)
    assert proc.returncode == 1, stderr  # as for any cancelled run that cannot resume
    outcomes = _records(out)
    assert sorted(o["index"] for o in outcomes) == list(range(LINES))  # each record exactly once
    cancelled = [o for o in outcomes if o["status"] == 499]
    delivered = [o for o in outcomes if o["outcome"] == "delivered"]
    assert len(cancelled) + len(delivered) == LINES and delivered  # the requests in flight finished
    assert len(cancelled) > LINES - 1000  # most of the file was never read before the signal
    for o in cancelled:
        assert o == {
            "index": o["index"],
            "message_id": f"m-{o['index']}",
            "outcome": "failed",
            "status": 499,
            "errortype": "CANCELLED",
            "errormessage": o["errormessage"],
            "attempts": 0,
            "sent": None,
            "body": None,
        }
    assert sum(o["errormessage"] == _UNREAD for o in cancelled) > LINES - 1000
    letters = _records(dead)
    assert sorted(d["index"] for d in letters) == sorted(o["index"] for o in cancelled)
    assert all(d["event"] == track(d["index"]) and (d["status"], d["attempts"]) == (499, 0) for d in letters)
    assert b"cancelled" in stderr and not list(tmp_path.glob("*.journal"))


def test_sigterm_on_a_journaled_file_run_writes_nothing_for_the_unread_records(
    tmp_path: Path, env: dict[str, str], big_input: Path
) -> None:
    with slow_service() as service:
        config = write_config(tmp_path, service.url)
        results = tmp_path / "events.results.jsonl"
        args = ["deliver", str(big_input), "--config", str(config), "--no-progress", "--results", str(results)]
        proc = _start(args, env, tmp_path, stdout=subprocess.PIPE)
        stderr = _terminate_after_the_first_request(proc, service)
    assert proc.returncode == 3, stderr  # stopped; the same command resumes
    outcomes = _records(results)
    assert outcomes and all(o["outcome"] == "delivered" for o in outcomes)  # no 499: released
    assert len(outcomes) < 1000
    assert (tmp_path / "events.results.jsonl.journal").exists()
    assert not list(tmp_path.glob("*dead-letter*"))


def test_sigterm_on_a_quiet_pipe_records_every_record_it_had_read(tmp_path: Path, env: dict[str, str]) -> None:
    """The reader refuses what it had read and then blocks on the open, quiet pipe: those
    records are in a block not yet handed over, and still each gets its outcome."""
    count = 400  # fits in a pipe's buffer; more than the requests in flight hold
    with slow_service() as service:
        config = write_config(tmp_path, service.url)
        args = ["deliver", "-", "--config", str(config), "--no-progress", "--results", "stdin.results.jsonl"]
        proc = _start(args, env, tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(jsonl([track(i) for i in range(count)]))
        proc.stdin.flush()  # and left open: no end of input
        deadline = time.monotonic() + _HANG_GUARD_S
        while not service.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=_HANG_GUARD_S)
        proc.stdin.close()
        assert proc.stderr is not None
        stderr = proc.stderr.read()
    assert code == 1, stderr
    outcomes = _records(tmp_path / "stdin.results.jsonl")
    assert sorted(o["index"] for o in outcomes) == list(range(count))
    cancelled = [o for o in outcomes if o["status"] == 499]
    assert cancelled and all(o["errortype"] == "CANCELLED" and o["attempts"] == 0 for o in cancelled)
    assert any(o["outcome"] == "delivered" for o in outcomes)
