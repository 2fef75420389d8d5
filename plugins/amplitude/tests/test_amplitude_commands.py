"""The plugin's commands: the emulator as a real process (``python -m`` and ``deliverator
amplitude-emulator``), and the demo environment ``deliverator demo --destination amplitude``
runs."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deliverator import DemoSetup, HttpClient, TransportError
from deliverator.testing import cli
from deliverator_amplitude import commands, demo
from deliverator_amplitude.emulator import Faults


def pump(stream: Any) -> queue.SimpleQueue[str | None]:
    """The lines of ``stream``, read by a thread into a queue (None at the end), so that a silent
    child costs a timeout and never hangs the test."""
    lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def read() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def read_until(lines: queue.SimpleQueue[str | None], marker: str | None, timeout: float = 15.0) -> str:
    """What arrives until a line holding ``marker`` (None: until the end)."""
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {marker!r} in {''.join(seen)!r}") from None
        if line is None:
            if marker is None:
                return "".join(seen)
            raise AssertionError(f"no {marker!r} in {''.join(seen)!r}")
        seen.append(line)
        if marker is not None and marker in line:
            return "".join(seen)


def test_the_emulator_runs_as_a_process_until_sigterm_and_says_what_it_received(
    upload: Any, amp_event: Any, http: HttpClient
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "deliverator_amplitude.emulator", "--port", "0", "--user-eps", "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = pump(process.stdout)
        banner = read_until(lines, "Press Ctrl-C to stop.")
        url = re.search(r"listening on (http://\S+)", banner)
        key = re.search(r'api_key = "([0-9a-f]{32})"', banner)
        assert url and key, banner
        assert "user_events_per_second=30" in banner
        assert upload(http, url.group(1), [amp_event(1)], api_key=key.group(1)).status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        rest = read_until(lines, None)
    finally:
        if process.poll() is None:
            process.kill()
    assert "stopped: 1 requests (200: 1), 1 events received, 1 kept" in rest


def test_deliverator_has_the_amplitude_emulator_command() -> None:
    result = CliRunner().invoke(cli, ["amplitude-emulator", "--help"])
    assert result.exit_code == 0, result.output
    assert "--user-eps" in result.output and "--accept-then-error-ratio" in result.output


def test_bad_fault_options_are_usage_errors() -> None:
    result = CliRunner().invoke(cli, ["amplitude-emulator", "--error-ratio", "2"])
    assert result.exit_code == 2


def test_the_demo_environment_serves_an_emulator_matching_its_settings(
    upload: Any, amp_event: Any, http: HttpClient
) -> None:
    with commands.demo_environment() as setup:
        assert isinstance(setup, DemoSetup)
        settings = setup.settings
        assert settings["endpoint"].startswith("http://127.0.0.1:")
        assert settings["api_key"] not in setup.description
        assert setup.events_path.read_bytes().count(b"\n") == demo.TOTAL_EVENTS
        assert setup.received() == 0
        emulator_url = settings["endpoint"]
        answer = upload(http, emulator_url, [amp_event(n) for n in range(30)], api_key=settings["api_key"])
        assert answer.status in (200, 500, 503)  # the demo injects 5xx faults
    with pytest.raises(TransportError):
        upload(http, emulator_url, [amp_event(1)], api_key=settings["api_key"])  # stopped on exit


def test_each_demo_gets_a_fresh_key() -> None:
    with commands.demo_setup(Faults()) as first, commands.demo_setup(Faults()) as second:
        assert first.settings["api_key"] != second.settings["api_key"]


def test_the_sample_stream_is_the_same_every_time() -> None:
    assert demo.sample_events() == demo.sample_events()
    kinds = {event["type"] for event in demo.sample_events()}
    assert kinds == {"identify", "track", "page", "screen", "group", "alias"}


def test_demo_names_the_installed_destinations_when_asked_for_an_unknown_one() -> None:
    result = CliRunner().invoke(cli, ["demo", "--destination", "nope"])
    assert result.exit_code == 2
    assert "no destination named 'nope' is installed" in result.output
    assert "amplitude" in result.output and "customerio" in result.output


def test_the_amplitude_demo_ends_every_event_on_the_path_it_was_meant_to_take(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--destination", "amplitude", "--output", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    outcomes = [json.loads(line) for line in (tmp_path / "demo.results.jsonl").read_text().splitlines()]
    unsent = demo.SHORT_IDS + demo.BAD_TIMES
    counts = Counter(o["outcome"] for o in outcomes)
    assert counts == {
        "delivered": demo.TOTAL_EVENTS - demo.GROUPS_AND_ALIASES - unsent - demo.PLACEHOLDER_IDS,
        "failed": unsent + demo.PLACEHOLDER_IDS,
        "ignored": demo.GROUPS_AND_ALIASES,
    }
    failed = [o for o in outcomes if o["outcome"] == "failed"]
    assert {o["errortype"] for o in failed} == {"PAYLOAD_VALIDATION_FAILED"}
    assert sum(o["attempts"] == 0 for o in failed) == unsent
    assert all("user_id invalid" in o["errormessage"] for o in failed if o["attempts"])
    assert f"the emulator holds {counts['delivered']} distinct delivered items" in result.output
