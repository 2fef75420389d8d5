"""Issue 13, "every core": one ``deliver FILE`` over several delivery processes keeps the whole
contract of a one-process file run — one results file, one dead-letter file, the journal and
resuming — through real processes, a real SIGKILL of the parent or of one delivery process,
and SIGTERM."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.services import jsonl, track
from tests.support import cli_env, run_cli
from tests.test_cli import CONFIG, write_config

BATCH = 50
CONCURRENCY = 4
_SHARD_MODULE = "deliverator._delivery.shard_process"


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok"})


class Service:
    """A loopback service that refuses the items whose id ends in ``7`` and keeps each copy of
    every item it received, and the client ports it was reached from."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.received: dict[str, list[bytes]] = {}
        self.requests = 0
        self.delay_s = delay_s
        self.server = ScriptedServer(self._answer)

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        items = orjson.loads(request.body)["items"]
        results = []
        with self._lock:
            self.requests += 1
            for item in items:
                self.received.setdefault(item["id"], []).append(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
                refused = item["id"].endswith("7")
                results.append({"status": 422, "error": "no sevens"} if refused else {"status": 200})
        return ScriptedResponse(status=200, body={"results": results}, delay_s=self.delay_s)

    def __enter__(self) -> Service:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def _config(folder: Path, url: str, processes: int | str) -> Path:
    text = CONFIG.format(url=url).replace("batch_size = 5", f"batch_size = {BATCH}")
    processes_value = orjson.dumps(processes).decode()
    text = text.replace("concurrency = 2", f"concurrency = {CONCURRENCY}\nprocesses = {processes_value}")
    return write_config(folder, url, text=text)


def _mixed_records(count: int) -> bytes:
    """Valid track events, with a line that is not JSON and one without a type now and then."""
    lines = []
    for i in range(count):
        if i % 101 == 50:
            lines.append(b"this is not json")
        elif i % 103 == 51:
            lines.append(orjson.dumps({"messageId": f"m-{i}", "event": "no type"}))
        else:
            lines.append(jsonl([track(i)]).rstrip(b"\n"))
    return b"\n".join(lines) + b"\n"


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def _by_index(path: Path) -> dict[int, bytes]:
    records = {}
    for line in _lines(path):
        index = orjson.loads(line)["index"]
        assert index not in records, f"a second record for index {index}"
        records[index] = line
    return records


def _delivery_processes(input_path: Path) -> list[int]:
    """Pids of the live delivery processes of a run over ``input_path`` (their command line
    names it, for ``ps``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and _SHARD_MODULE.encode() in argv and str(input_path).encode() in argv:
            found.append(int(entry.name))
    return found


def _wait_until(condition: object, limit_s: float = 30) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]  # a callable
            return True
        time.sleep(0.01)
    return False


def test_two_processes_record_exactly_what_one_process_records(tmp_path: Path, env: dict[str, str]) -> None:
    count = 3_000
    outputs = {}
    for processes in (1, 2):
        folder = tmp_path / f"processes-{processes}"
        folder.mkdir()
        with Service() as service:
            config = _config(folder, service.server.url, processes)
            events = folder / "events.jsonl"
            events.write_bytes(_mixed_records(count))
            proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env, timeout=120)
        assert proc.returncode == 1, proc.stderr  # some events failed
        said = "delivering with 2 processes" in proc.stderr
        assert said == (processes == 2), proc.stderr
        assert not (folder / "events.results.jsonl.journal").exists()
        outputs[processes] = (
            _by_index(folder / "events.results.jsonl"),
            sorted(_lines(folder / "events.dead-letter.jsonl")),
            proc.stdout.splitlines()[0],
            set(service.received),
        )
    one, two = outputs[1], outputs[2]
    assert sorted(two[0]) == list(range(count))  # every record exactly once
    assert two[0] == one[0]  # each record's outcome byte for byte
    assert two[1] == one[1] and len(two[1]) > 100  # the same dead letters (refused, invalid)
    assert two[2] == one[2]  # the same summary line
    assert two[3] == one[3]  # the same events reached the service


@pytest.mark.parametrize("victim", ["parent", "delivery process"])
def test_kill_9_then_the_same_command_delivers_every_event_once(
    tmp_path: Path, env: dict[str, str], victim: str
) -> None:
    """kill -9 of the parent (its delivery processes end with it), or of one delivery process
    (the run stops resumable and says which one); then the same command finishes the job."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    count = 20_000
    with Service() as service:
        config = _config(tmp_path, service.server.url, 2)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(i) for i in range(count)]))
        args = [sys.executable, "-m", "deliverator", "deliver", str(events), "--config", str(config), "--no-progress"]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        target = rng.randint(10, 150)
        assert _wait_until(lambda: service.requests >= target or proc.poll() is not None)
        children = _delivery_processes(events)
        assert proc.poll() is None and len(children) == 2, (seed, children)
        if victim == "parent":
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            # The lifeline: no delivery process outlives its parent.
            assert _wait_until(lambda: not _delivery_processes(events), limit_s=10), seed
        else:
            os.kill(children[0], signal.SIGKILL)
            _, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 3, stderr
            text = stderr.decode()
            assert f"delivery process 0 (pid {children[0]}) was killed by signal SIGKILL" in text
            assert "Traceback" not in text
        time.sleep(0.3)  # what was already on the wire reaches the service
        before = {key: len(copies) for key, copies in service.received.items()}
        final = run_cli(args[3:], env, timeout=120)
    assert final.returncode == 1, (seed, final.stderr)  # the sevens are refused
    assert "resuming: " in final.stderr
    again = sum(1 for key, copies in before.items() if len(service.received[key]) > copies)
    assert again <= (CONCURRENCY + 2) * BATCH, (seed, again)  # at most what was in flight
    outcomes = _by_index(tmp_path / "events.results.jsonl")
    assert sorted(outcomes) == list(range(count)), seed
    assert set(service.received) == {f"m-{i}" for i in range(count)}
    duplicates = [copies for copies in service.received.values() if len(copies) > 1]
    assert all(len(set(copies)) == 1 for copies in duplicates)  # same item, same dedup id
    dead = [orjson.loads(line) for line in _lines(tmp_path / "events.dead-letter.jsonl")]
    assert sorted(letter["index"] for letter in dead) == [i for i in range(count) if str(i).endswith("7")]
    assert not (tmp_path / "events.results.jsonl.journal").exists()


def test_sigterm_stops_every_process_and_the_same_command_resumes(tmp_path: Path, env: dict[str, str]) -> None:
    count = 5_000
    with Service(delay_s=0.2) as service:
        config = _config(tmp_path, service.server.url, 2)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(i) for i in range(count)]))
        args = ["deliver", str(events), "--config", str(config), "--no-progress"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "deliverator", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert _wait_until(lambda: service.requests >= 4 or proc.poll() is not None)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 3, stderr
        assert not _delivery_processes(events)
        first = _by_index(tmp_path / "events.results.jsonl")
        assert 0 < len(first) < count
        assert not [line for line in first.values() if orjson.loads(line)["status"] == 499]  # released
        service.delay_s = 0.0
        again = run_cli(args, env, timeout=120)
    assert again.returncode == 1, again.stderr
    assert f"resuming: {len(first)} of {count} events already have an outcome" in again.stderr
    outcomes = _by_index(tmp_path / "events.results.jsonl")
    assert sorted(outcomes) == list(range(count))
    assert all(outcomes[index] == line for index, line in first.items())  # kept, not rewritten
