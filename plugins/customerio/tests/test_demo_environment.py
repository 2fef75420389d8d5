"""``deliverator demo`` with the Customer.io plugin: the hook starts a working emulator with
throwaway credentials, and the whole demo delivers the valid events and fails exactly the
invalid ones, each on the path it was meant to take."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deliverator import DemoSetup, HttpClient, HttpSettings, TransportError
from deliverator.testing import cli
from deliverator_customerio import commands, demo
from deliverator_customerio.emulator import EmulatorClient, Faults


@pytest.fixture
def http() -> Iterator[HttpClient]:
    client = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=5.0))
    yield client
    client.close()


def test_demo_environment_serves_an_emulator_matching_the_settings_it_gives(http: HttpClient) -> None:
    environment = commands.demo_environment()
    with environment as setup:
        assert isinstance(setup, DemoSetup)
        settings = setup.settings
        assert settings["region"] == "us"
        assert settings["endpoint"].startswith("http://127.0.0.1:")
        api = EmulatorClient(http, settings["endpoint"], settings["site_id"], settings["api_key"])
        assert api.region().status == 200
        assert setup.events_path.read_bytes() == demo.render_sample()
        assert setup.received() == 0
        item = {"type": "person", "action": "identify", "identifiers": {"id": "u1"}}
        assert api.batch([item]).status == 200
        assert setup.received() == 1
    with pytest.raises(TransportError):
        api.region()  # stopped on exit


def test_each_demo_gets_fresh_throwaway_credentials() -> None:
    with commands.demo_setup(Faults()) as first, commands.demo_setup(Faults()) as second:
        assert first.settings["api_key"] != second.settings["api_key"]
        assert first.settings["site_id"] != second.settings["site_id"]
        assert first.settings["api_key"] not in first.description


def test_deliverator_demo_delivers_the_valid_events_and_fails_the_invalid_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--output", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    outcomes = [json.loads(line) for line in (tmp_path / "demo.results.jsonl").read_text().splitlines()]
    assert Counter(o["outcome"] for o in outcomes) == {"delivered": 570, "failed": 30}
    failed = [o for o in outcomes if o["outcome"] == "failed"]
    assert {o["errortype"] for o in failed} == {"PAYLOAD_VALIDATION_FAILED"}
    never_sent = [o for o in failed if o["attempts"] == 0]
    refused_by_the_api = [o for o in failed if o["attempts"] >= 1]
    assert (len(never_sent), len(refused_by_the_api)) == (15, 15)
    assert all(o["body"] and o["body"][0]["reason"] == "invalid" for o in refused_by_the_api)
    assert "the emulator holds 570 distinct delivered items" in result.output
    assert len((tmp_path / "demo.dead-letter.jsonl").read_text().splitlines()) == 30
