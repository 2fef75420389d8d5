"""Durable file runs in real processes: kill -9 at random moments and the same command
finishes the job, each event delivered and recorded once; SIGTERM resumes with exit 3; an input
that changed is refused; ``--restart``; torn lines; output paths that would destroy the input;
outcome records that cannot be written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.services import jsonl, track
from tests.support import cli_env, run_cli
from tests.test_cli import CONFIG, write_config, write_events

EVENTS = 20_000
CONCURRENCY = 4
BATCH = 50  # the example destination's limit
_DELIVER = [sys.executable, "-m", "deliverator", "deliver"]


class Recorder:
    """A loopback service that takes every item and remembers each copy it received."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.received: defaultdict[str, list[bytes]] = defaultdict(list)
        self.requests = 0
        self.delay_s = delay_s
        self.server = ScriptedServer(self._answer)

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        items = orjson.loads(request.body)["items"]
        with self._lock:
            self.requests += 1
            for item in items:
                self.received[item["id"]].append(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
        return ScriptedResponse(status=200, body={"results": [{"status": 200}] * len(items)}, delay_s=self.delay_s)

    def __enter__(self) -> Recorder:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok"})


def _config(tmp_path: Path, url: str) -> Path:
    text = CONFIG.format(url=url).replace("batch_size = 5", f"batch_size = {BATCH}")
    return write_config(tmp_path, url, text=text.replace("concurrency = 2", f"concurrency = {CONCURRENCY}"))


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "deliverator", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for(condition: object, proc: subprocess.Popen[bytes], limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition() and proc.poll() is None and time.monotonic() < deadline:  # type: ignore[operator]  # a callable
        time.sleep(0.005)


def _settle(service: Recorder, quiet_s: float = 0.3, limit_s: float = 10) -> None:
    """Wait until the killed process's last requests, already on the wire, have all reached the
    server: counting what the next run re-sends starts only from there."""
    deadline = time.monotonic() + limit_s
    seen, since = service.requests, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.02)
        if service.requests != seen:
            seen, since = service.requests, time.monotonic()


def _results(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_kill_9_at_random_points_then_the_same_command_delivers_every_event_once(
    tmp_path: Path, env: dict[str, str]
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    figures = []
    for trial in range(3):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        with Recorder() as service:
            config = _config(folder, service.server.url)
            events = write_events(folder, [track(i) for i in range(EVENTS)])
            args = ["deliver", str(events), "--config", str(config), "--no-progress"]
            kills, resent = [], []
            for crash in range(3):  # two crashes at random moments, then a run to the end
                before = {key: len(copies) for key, copies in service.received.items()}
                if crash < 2:
                    target = service.requests + rng.randint(5, 120)
                    proc = _start(args, env)
                    _wait_for(lambda target=target: service.requests >= target, proc)  # type: ignore[misc]  # bound default
                    proc.send_signal(signal.SIGKILL)
                    proc.communicate(timeout=30)
                    _settle(service)
                    kills.append(target)
                else:
                    final = run_cli(args, env, timeout=120)
                if crash:  # what this run sent again of what the crashed one had sent
                    again = sum(1 for key, count in before.items() if len(service.received[key]) > count)
                    assert again <= (CONCURRENCY + 1) * BATCH, (seed, again)
                    resent.append(again)
        assert final.returncode == 0, (seed, final.stderr)
        outcomes = _results(folder / "events.results.jsonl")
        assert sorted(o["index"] for o in outcomes) == list(range(EVENTS)), seed  # type: ignore[type-var]  # ints
        assert {o["outcome"] for o in outcomes} == {"delivered"}
        assert set(service.received) == {f"m-{i}" for i in range(EVENTS)}
        duplicates = {key: copies for key, copies in service.received.items() if len(copies) > 1}
        assert all(len(set(copies)) == 1 for copies in duplicates.values())  # same item, same dedup id
        assert len(duplicates) == sum(resent)
        assert not (folder / "events.results.jsonl.journal").exists()
        assert not (folder / "events.dead-letter.jsonl").exists()
        figures.append((kills, resent))
    print(f"\ncrash trials (seed {seed}): (requests at each kill, items re-sent after each kill): {figures}")


def _interrupted_run(tmp_path: Path, env: dict[str, str], service: Recorder, count: int = 100) -> list[str]:
    """A run stopped by SIGTERM after its first request: exit 3, a journal left behind."""
    config = _config(tmp_path, service.server.url).read_text().replace(f"batch_size = {BATCH}", "batch_size = 5")
    (tmp_path / "config.toml").write_text(config.replace(f"concurrency = {CONCURRENCY}", "concurrency = 1"))
    events = write_events(tmp_path, [track(i) for i in range(count)])
    args = ["deliver", str(events), "--config", str(tmp_path / "config.toml"), "--no-progress"]
    proc = _start(args, env)
    _wait_for(lambda: service.requests >= 1, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3, stderr
    assert (tmp_path / "events.results.jsonl.journal").exists()
    service.delay_s = 0.0
    return args


def test_a_torn_last_line_is_repaired_when_the_run_resumes(tmp_path: Path, env: dict[str, str]) -> None:
    with Recorder(delay_s=0.3) as service:
        args = _interrupted_run(tmp_path, env, service)
        results = tmp_path / "events.results.jsonl"
        committed = _results(results)
        with results.open("ab") as torn:
            torn.write(b'{"index":99,"message_id":"m-99","outco')  # a crash in the middle of a write
        again = run_cli(args, env)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(committed)} of 100 events already have an outcome" in again.stderr
    outcomes = _results(results)
    assert sorted(o["index"] for o in outcomes) == list(range(100))  # type: ignore[type-var]  # ints


def test_an_input_changed_since_the_interrupted_run_is_refused_and_restart_starts_over(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with Recorder(delay_s=0.3) as service:
        args = _interrupted_run(tmp_path, env, service)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(i, properties={"changed": True}) for i in range(100)]))
        refused = run_cli(args, env)
        assert refused.returncode == 2
        assert "changed since the interrupted run" in refused.stderr and str(events) in refused.stderr
        assert "--restart" in refused.stderr and "Traceback" not in refused.stderr
        requests = service.requests
        restarted = run_cli([*args, "--restart"], env)
    assert service.requests > requests
    assert restarted.returncode == 0, restarted.stderr
    assert "resuming" not in restarted.stderr
    outcomes = _results(tmp_path / "events.results.jsonl")
    assert sorted(o["index"] for o in outcomes) == list(range(100))  # type: ignore[type-var]  # ints
    assert not (tmp_path / "events.results.jsonl.journal").exists()


@pytest.mark.parametrize(
    "options",
    [
        ["--results", "{input}"],
        ["--dead-letter", "{input}"],
        ["--results", "{link}"],
        ["--results", "{out}", "--dead-letter", "{out}"],
    ],
    ids=["results-is-input", "dead-letter-is-input", "results-is-a-symlink-to-input", "results-is-dead-letter"],
)
def test_output_paths_that_name_the_input_or_each_other_are_refused_before_anything_is_written(
    tmp_path: Path, env: dict[str, str], options: list[str]
) -> None:
    events = write_events(tmp_path, [track(0), track(1)])
    original = events.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(events)
    config = write_config(tmp_path, "http://127.0.0.1:9")
    before = sorted(tmp_path.iterdir())
    named = [o.format(input=events, link=link, out=tmp_path / "out.jsonl") for o in options]
    proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress", *named], env)
    assert proc.returncode == 2, proc.stderr
    assert "is the same file as" in proc.stderr and "Traceback" not in proc.stderr
    assert events.read_bytes() == original
    assert sorted(tmp_path.iterdir()) == before


def test_outcomes_that_cannot_be_written_stop_the_run_in_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    with Recorder() as service, Path("/dev/full").open("wb") as full:
        config = _config(tmp_path, service.server.url)
        events = write_events(tmp_path, [track(i) for i in range(EVENTS)])
        proc = subprocess.run(
            [*_DELIVER, str(events), "--config", str(config), "--results", "-", "--no-progress"],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write outcome records: No space left on device" in lines[0]
    # it stopped sending at once: the requests in flight when the first write failed, not the
    # 400 requests of the whole input
    assert service.requests <= 2 * CONCURRENCY


def test_a_closed_stdout_pipe_ends_the_run_quietly(tmp_path: Path, env: dict[str, str]) -> None:
    with Recorder() as service:
        config = _config(tmp_path, service.server.url)
        events = write_events(tmp_path, [track(i) for i in range(EVENTS)])
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the first record
        proc = subprocess.run(
            [*_DELIVER, str(events), "--config", str(config), "--results", "-", "--no-progress"],
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == ""
    assert service.requests <= 2 * CONCURRENCY


def _user_namespace_mounts() -> bool:
    probe = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not Path("/usr/bin/unshare").exists() or not _user_namespace_mounts(),
    reason="needs unshare and user namespaces to mount a small tmpfs (the /dev/full test above covers the rest)",
)
@pytest.mark.parametrize("processes", [1, 2])
def test_a_full_disk_stops_a_file_run_and_the_same_command_resumes_once_space_is_freed(
    tmp_path: Path, env: dict[str, str], processes: int
) -> None:
    with Recorder() as service:
        config = _config(tmp_path, service.server.url)
        config.write_text(config.read_text().replace("[delivery]", f"[delivery]\nprocesses = {processes}"))
        events = write_events(tmp_path, [track(i, properties={"pad": "x" * 200}) for i in range(5000)])
        disk = tmp_path / "disk"
        disk.mkdir()
        deliver = f"{sys.executable} -m deliverator deliver {events} --config {config} --no-progress"
        deliver += f" --results {disk}/out.results.jsonl"
        # In a private mount namespace: a 256 KiB disk fills up during the first run; then it
        # grows, and the same command resumes. The results are copied out before it goes away.
        script = f"""
            mount -t tmpfs -o size=256k tmpfs {disk}
            {deliver} 2>{tmp_path}/first.err; echo $? > {tmp_path}/first.code
            mount -o remount,size=64m {disk}
            {deliver} 2>{tmp_path}/second.err; echo $? > {tmp_path}/second.code
            cp {disk}/out.results.jsonl {tmp_path}/out.results.jsonl
            ls -a {disk} > {tmp_path}/disk.list
        """
        subprocess.run(["unshare", "-Urm", "sh", "-c", script], env=env, check=True, timeout=120)
    first = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.code").read_text().strip() == "4", first
    said = [line for line in first.strip().splitlines() if "delivering with" not in line]
    assert len(said) == 1 and "Traceback" not in first
    assert ("delivering with 2 processes" in first) == (processes == 2)
    # whichever write met the full disk first: the results file's, or the journal's
    assert "No space left on device" in first or "database or disk is full" in first
    assert "the same command resumes" in first
    second = (tmp_path / "second.err").read_text()
    assert (tmp_path / "second.code").read_text().strip() == "0", second
    assert "resuming:" in second
    outcomes = _results(tmp_path / "out.results.jsonl")
    assert sorted(o["index"] for o in outcomes) == list(range(5000))  # type: ignore[type-var]  # ints
    assert set(service.received) == {f"m-{i}" for i in range(5000)}
    assert "out.results.jsonl.journal" not in (tmp_path / "disk.list").read_text()


def _high_water_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_stream_of_invalid_lines_is_recorded_in_bounded_memory(tmp_path: Path, env: dict[str, str]) -> None:
    lines = 300_000  # unbounded, these alone took over a gigabyte before they were written
    feed = tmp_path / "invalid.jsonl"
    feed.write_bytes(b"this is not json\n" * lines)
    config = write_config(tmp_path, "http://127.0.0.1:9")
    peak = 0.0
    with feed.open("rb") as stdin, (tmp_path / "out.jsonl").open("wb") as out:
        proc = subprocess.Popen(
            [*_DELIVER, "-", "--config", str(config), "--results", "-", "--no-progress"],
            env=env,
            stdin=stdin,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None:
            try:
                peak = max(peak, _high_water_mb(proc.pid))
            except OSError:
                break  # it just ended
            time.sleep(0.02)
    assert proc.wait() == 1
    assert (tmp_path / "out.jsonl").read_bytes().count(b"\n") == lines
    assert 0 < peak < 150, peak
