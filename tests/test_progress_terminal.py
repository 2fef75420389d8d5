"""The live progress in a real terminal (a pty): events counted, a finished run's exact count,
and Ctrl-C that says "stopped" without a warning line torn through the display."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from deliverator.testing import ScriptedResponse, ScriptedServer
from tests.services import ExampleService, jsonl, track
from tests.support import cli_env
from tests.test_cli import CONFIG, write_config


def _start_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deliverator", *args],
        env={**env, "TERM": "xterm", "COLUMNS": "160"},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    return proc, primary


def _read_until_exit(proc: subprocess.Popen[bytes], primary: int, seen: list[bytes]) -> str:
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen.append(chunk)
    os.close(primary)
    proc.wait(timeout=30)
    return b"".join(seen).decode(errors="replace")


def test_a_finished_file_run_shows_events_counted_and_its_exact_total(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl([track(i) for i in range(30)]))
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        proc, primary = _start_on_terminal(["deliver", str(events), "--config", str(config)], env, tmp_path)
        screen = _read_until_exit(proc, primary, [])
    assert proc.returncode == 0, screen
    assert "done" in screen and "30/30 events" in screen and "30 delivered · 0 failed · 0 ignored" in screen


def test_ctrl_c_shows_stopped_and_no_torn_warning(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    slow = ScriptedServer([ScriptedResponse(status=200, body={"results": [{"status": 200}] * 5}, delay_s=0.3)])
    with slow:
        text = CONFIG.format(url=slow.url).replace("concurrency = 2", "concurrency = 1")
        config = write_config(tmp_path, slow.url, text=text)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(i) for i in range(200)]))
        proc, primary = _start_on_terminal(["deliver", str(events), "--config", str(config)], env, tmp_path)
        seen: list[bytes] = []
        deadline = time.monotonic() + 20
        while b"delivered" not in b"".join(seen) and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                seen.append(os.read(primary, 65536))
        proc.send_signal(signal.SIGINT)
        screen = _read_until_exit(proc, primary, seen)
    assert proc.returncode == 3, screen
    assert "stopped" in screen and "not finished" in screen
    assert "the same command resumes" in screen
    assert "warning: stopping" not in screen  # the display says it; no line torn through it


def test_standard_input_shows_counts_without_a_total(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    source = tmp_path / "events.jsonl"
    source.write_bytes(jsonl([track(i) for i in range(7)]))
    with ExampleService() as service, source.open("rb") as stdin:
        config = write_config(tmp_path, service.url)
        primary, secondary = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "deliverator", "deliver", "-", "--config", str(config), "--results", "-"],
            env={**env, "TERM": "xterm", "COLUMNS": "160"},
            cwd=tmp_path,
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=secondary,
        )
        os.close(secondary)
        screen = _read_until_exit(proc, primary, [])
    assert proc.returncode == 0, screen
    assert "7 events" in screen and "/7 events" not in screen and "ETA" not in screen
