"""``deliverator deliver`` in a real process against the emulator with faults on: every record
ends exactly once, and the emulator holds each delivered event exactly once, whatever was lost,
dropped, rate limited or answered as a JSON string on the way."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson

from deliverator_customerio.demo import SAMPLE_PATH
from deliverator_customerio.emulator import Emulator, Faults

CONFIG = """
[destination]
name = "customerio"

[destination.settings]
site_id = "site"
api_key = "${{CIO_KEY}}"
endpoint = "{url}"

[delivery]
batch_size = 25
concurrency = 4
timeout_s = 5
linger_s = 0.05

[error_handler]
max_retries = 40
max_time = 600
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


def run_cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERATOR_")}
    env["CIO_KEY"] = "key-do-not-print"
    return subprocess.run(
        [sys.executable, "-m", "deliverator", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_event_ends_once_and_is_held_once_despite_faults(tmp_path: Path) -> None:
    faults = Faults(
        rate_limit_every=7,
        retry_after_s=0,
        error_ratio=0.15,
        drop_ratio=0.1,
        lose_answer_ratio=0.1,
        string_bodies=True,
        seed=7,
    )
    with Emulator(site_id="site", api_key="key-do-not-print", faults=faults) as emulator:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(url=emulator.url))
        proc = run_cli(
            [
                "deliver",
                str(SAMPLE_PATH),
                "--config",
                str(config),
                "--no-progress",
                "--results",
                "out.jsonl",
                "--dead-letter",
                "dead.jsonl",
            ],
            tmp_path,
        )
        held = Counter(item["id"] for item in emulator.accepted() if "id" in item)
        received = emulator.received_ids()
        accepted_count = emulator.accepted_count()

    assert proc.returncode == 1, proc.stderr  # the sample holds invalid events on purpose
    records = [line for line in SAMPLE_PATH.read_bytes().splitlines() if line.strip()]
    outcomes = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert sorted(o["index"] for o in outcomes) == list(range(len(records)))
    delivered = [o for o in outcomes if o["outcome"] == "delivered"]
    assert len(delivered) == accepted_count
    assert all(count == 1 for count in held.values())
    for outcome in delivered:
        item_id = outcome["sent"].get("id")
        if item_id is not None:
            assert held[item_id] == 1
    # Faults really happened: some ids reached the emulator more than once.
    assert any(count > 1 for count in received.values())
    failed = [o for o in outcomes if o["outcome"] == "failed"]
    assert {o["errortype"] for o in failed} == {"PAYLOAD_VALIDATION_FAILED"}
    assert len((tmp_path / "dead.jsonl").read_bytes().splitlines()) == len(failed)
    assert "key-do-not-print" not in proc.stdout + proc.stderr + (tmp_path / "out.jsonl").read_text()


def test_check_reports_the_region_and_warns_when_it_differs(tmp_path: Path) -> None:
    with Emulator(site_id="site", api_key="key-do-not-print", region="eu") as emulator:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(url=emulator.url))
        proc = run_cli(["check", "--config", str(config)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "credentials OK" in proc.stdout and "eu" in proc.stdout
    assert "warning" in proc.stderr and "eu" in proc.stderr


def test_check_with_wrong_credentials_exits_1_without_showing_the_key(tmp_path: Path) -> None:
    with Emulator(site_id="site", api_key="another-key") as emulator:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(url=emulator.url))
        proc = run_cli(["check", "--config", str(config)], tmp_path)
    assert proc.returncode == 1
    assert "credentials FAILED" in proc.stdout
    assert "key-do-not-print" not in proc.stdout + proc.stderr
