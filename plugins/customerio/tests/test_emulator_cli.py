"""The emulator's command line: ``python -m deliverator_customerio.emulator`` in a real
process, and the same command registered as ``deliverator customerio-emulator``."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from deliverator import HttpClient, HttpSettings
from deliverator.testing import cli
from deliverator_customerio import commands
from deliverator_customerio.emulator import EmulatorClient
from deliverator_customerio.emulator.cli import command


class RunningEmulator:
    """``python -m deliverator_customerio.emulator ARGS`` in a child process."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deliverator_customerio.emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.banner = self._read_until("Press Ctrl-C to stop.")
        found = re.search(r"listening on (http://\S+)", self.banner)
        assert found, self.banner
        self.url = found.group(1)

    def _read_until(self, marker: str, timeout: float = 15.0) -> str:
        # A thread reads lines, so a silent child costs the timeout and never hangs the test.
        assert self.process.stdout is not None
        lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        stdout = self.process.stdout

        def pump() -> None:
            for line in iter(stdout.readline, ""):
                lines.put(line)
            lines.put(None)  # end of output

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            if marker in line:
                self._lines = lines
                return "".join(seen)
        self.process.kill()
        raise AssertionError(f"no {marker!r} from the emulator; got {''.join(seen)!r}")

    def stop(self, signum: int) -> tuple[int, str]:
        """Send ``signum``; return the exit code and the rest of stdout."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=15)
        rest = list(iter(lambda: self._lines.get(timeout=10), None))
        return code, "".join(line for line in rest if line)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def http() -> Iterator[HttpClient]:
    client = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=5.0))
    yield client
    client.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_module_serves_until_stopped_then_prints_what_it_received(signum: int, http: HttpClient) -> None:
    emulator = RunningEmulator("--site-id", "cli-site", "--api-key", "cli-key-secret", "--rate-limit-every", "2")
    try:
        api = EmulatorClient(http, emulator.url, "cli-site", "cli-key-secret")
        item = {"type": "person", "action": "identify", "identifiers": {"id": "u1"}}
        statuses = [api.batch([item]).status, api.batch([item]).status]
        code, rest = emulator.stop(signum)
    finally:
        emulator.kill()
    assert statuses == [200, 429]
    assert code == 0
    assert "stopped: 2 requests (200: 1, 429: 1; 0 dropped), 1 items received, 1 accepted" in rest
    assert "rate_limit_every=2" in emulator.banner
    assert "cli-key-secret" not in emulator.banner + rest


def test_generated_credentials_are_printed_and_accepted(http: HttpClient) -> None:
    emulator = RunningEmulator()
    try:
        site_id = re.search(r'site_id = "([^"]+)"', emulator.banner)
        api_key = re.search(r'api_key = "([^"]+)"', emulator.banner)
        assert site_id and api_key, emulator.banner
        assert f'endpoint = "{emulator.url}"' in emulator.banner
        response = EmulatorClient(http, emulator.url, site_id.group(1), api_key.group(1)).region()
    finally:
        emulator.stop(signal.SIGINT)
        emulator.kill()
    assert response.status == 200


def test_plugin_registers_the_command_as_customerio_emulator() -> None:
    group = click.Group()
    commands.register_commands(cli=group)
    assert group.commands["customerio-emulator"] is command


def test_deliverator_cli_offers_the_emulator_command() -> None:
    result = CliRunner().invoke(cli, ["customerio-emulator", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--port", "--site-id", "--api-key", "--fast", "--rate-limit-every", "--error-ratio"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--error-ratio", "2"], "--error-ratio"),
        (["--port", "70000"], "--port"),
        (["--error-status", "404"], "--error-status"),
        (["--redirect-to", "track-eu.customer.io"], "redirect_to"),
        (["--region", "ap"], "--region"),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(args: list[str], named: str) -> None:
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2
    assert named in result.output
    assert "Traceback" not in result.output


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(command, ["--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
