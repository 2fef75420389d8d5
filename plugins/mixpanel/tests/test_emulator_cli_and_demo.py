"""``deliverator mixpanel-emulator`` in a real process, and the ``demo_environment`` hook."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from deliverator import DemoSetup, HttpClient, TransportError
from deliverator.testing import Destination
from deliverator_mixpanel import commands, plugin
from deliverator_mixpanel.emulator import Faults
from plugins.mixpanel.tests.conftest import basic, mp_event, post


def test_the_registered_command_serves_until_sigterm_and_prints_what_it_received(http: HttpClient) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DELIVERATOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "deliverator", "mixpanel-emulator", "--port", "0", "--rate-limit-every", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = "".join(iter_until(process.stdout, "Press Ctrl-C to stop."))
        url = re.search(r"listening on (http://\S+)", banner)
        secret = re.search(r'api_secret = "([^"]+)"', banner)
        assert url and secret, banner
        assert "rate_limit_every=2" in banner
        statuses = [post(http, url.group(1), [mp_event(n)], auth=basic(secret.group(1))).status for n in range(2)]
        assert statuses == [200, 429]
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "stopped: 2 requests (200: 1, 429: 1; 0 dropped), 1 events received, 1 imported" in out


def iter_until(stream: object, marker: str) -> list[str]:
    lines = []
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]  # a text pipe
        lines.append(line)
        if marker in line:
            break
    return lines


def test_demo_environment_serves_an_emulator_matching_the_settings_it_gives(http: HttpClient) -> None:
    with commands.demo_environment() as setup:
        assert isinstance(setup, DemoSetup)
        destination = Destination.from_plugins([("mixpanel", plugin)], setup.settings)
        lines = setup.events_path.read_text().splitlines()
        assert len(lines) == 300
        payload = destination.build_payload({"type": "track", "event": "e", "userId": "u", "timestamp": 1_717_000_000})
        assert setup.received() == 0
        response = destination.send_batch([payload], http)
        assert response.status == 200 and setup.received() == 1
        url = setup.settings["endpoint"]
    with pytest.raises(TransportError):
        post(http, url, [mp_event(0)])  # stopped on exit


def test_each_demo_gets_fresh_throwaway_credentials() -> None:
    with commands.demo_setup(Faults()) as first, commands.demo_setup(Faults()) as second:
        assert first.settings["api_secret"] != second.settings["api_secret"]
        assert first.settings["api_secret"] not in first.description
