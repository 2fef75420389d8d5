"""Slow streams and terminals: a partial batch leaves after the linger time without waiting
for more input, and a progress bar shows only on a terminal."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.services import ExampleService, jsonl, track
from tests.support import cli_env
from tests.test_cli import write_config


def _deliver_from_a_pipe(config: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deliverator",
            "deliver",
            "-",
            "--config",
            str(config),
            "--results",
            "stdin.results.jsonl",
            "--no-progress",
        ],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_slow_stream_sends_a_partial_batch_after_the_linger_time(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)  # batch_size 5, linger_s 0.05
        proc = _deliver_from_a_pipe(config, env, tmp_path)
        assert proc.stdin is not None
        proc.stdin.write(jsonl([track(0), track(1)]))
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not service.delivered and time.monotonic() < deadline:
            time.sleep(0.02)
        # Two events, a batch of five, and the input still open: only the linger sent them.
        assert service.delivered == {"m-0": 1, "m-1": 1}
        proc.stdin.write(jsonl([track(2)]))
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    outcomes = [orjson.loads(line) for line in (tmp_path / "stdin.results.jsonl").read_bytes().splitlines()]
    assert sorted(o["index"] for o in outcomes) == [0, 1, 2]


def _run_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deliverator", *args],
        env={**env, "TERM": "xterm", "COLUMNS": "120"},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


def test_progress_bar_shows_on_a_terminal_and_not_with_no_progress(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl([track(i) for i in range(20)]))
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        code, terminal = _run_on_terminal(["deliver", str(events), "--config", str(config)], env, tmp_path)
        quiet_code, quiet = _run_on_terminal(
            ["deliver", str(events), "--config", str(config), "--no-progress"], env, tmp_path
        )
    assert (code, quiet_code) == (0, 0)
    assert "delivering" in terminal and "20 delivered" in terminal
    assert "delivering" not in quiet


def test_ctrl_c_on_a_quiet_stdin_stops_promptly_and_records_what_was_read(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        proc = _deliver_from_a_pipe(config, env, tmp_path)
        assert proc.stdin is not None
        proc.stdin.write(jsonl([track(0)]) + b'{"type": "track"')  # a line still being written
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not service.delivered and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        elapsed = time.monotonic() - started
        proc.stdin.close()
    assert code == 0  # the one event read was delivered; nothing else became a record
    assert elapsed < 10  # not the 15 s grace: a reader blocked on stdin is not waited for
    outcomes = [orjson.loads(line) for line in (tmp_path / "stdin.results.jsonl").read_bytes().splitlines()]
    assert [o["outcome"] for o in outcomes] == ["delivered"]
