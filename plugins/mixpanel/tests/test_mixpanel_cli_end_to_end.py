"""``deliverator deliver`` in a real process against the emulator, faults on: every record ends
exactly once and truthfully, per-item retries re-send only what may be re-sent, re-runs carry
the same insert ids, a 413 splits, bad credentials stop the run as a config error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from deliverator_mixpanel.emulator import Emulator, Faults, Project
from deliverator_mixpanel.sample import NO_TIME, NOT_AN_OBJECT, PLACEHOLDER_USERS, TOO_DEEP, sample_events, write_sample

SECRET = "e2e-secret-DO-NOT-PRINT"
PROJECT = Project(api_secret=SECRET, token="e2e-token")

CONFIG = """
[destination]
name = "mixpanel"

[destination.settings]
api_secret = "${{MP_SECRET}}"
project_token = "e2e-token"
profiles = {profiles}
endpoint = "{url}"

[delivery]
batch_size = {batch_size}
concurrency = 3
timeout_s = 5
linger_s = 0.05

[error_handler]
max_retries = 40
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


def deliver(tmp_path: Path, emulator: Emulator, results: str, *, profiles: bool = True, batch_size: int = 40) -> Any:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=emulator.url, profiles=str(profiles).lower(), batch_size=batch_size))
    events = tmp_path / "events.jsonl"
    if not events.exists():
        write_sample(events)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DELIVERATOR_")}
    env["MP_SECRET"] = SECRET
    args = ["deliver", str(events), "--config", str(config), "--no-progress", "--results", results]
    proc = subprocess.run(
        [sys.executable, "-m", "deliverator", *args, "--dead-letter", results + ".dead"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert SECRET not in proc.stdout + proc.stderr
    outcomes = [orjson.loads(line) for line in (tmp_path / results).read_bytes().splitlines()]
    assert SECRET not in (tmp_path / results).read_text()
    return proc, outcomes


def test_every_event_ends_once_and_truthfully_despite_faults(tmp_path: Path) -> None:
    faults = Faults(rate_limit_every=7, error_ratio=0.15, lose_answer_ratio=0.15, seed=5)
    with Emulator(project=PROJECT, faults=faults) as emulator:
        proc, outcomes = deliver(tmp_path, emulator, "out.jsonl")
        imported = {event["properties"]["$insert_id"] for event in emulator.events()}
        stats, profiles = emulator.stats(), emulator.profiles()
    assert proc.returncode == 1, proc.stderr
    events = sample_events()
    assert sorted(o["index"] for o in outcomes) == list(range(len(events)))
    by_outcome = Counter(o["outcome"] for o in outcomes)
    kinds = Counter(event["type"] for event in events)
    assert by_outcome["ignored"] == kinds["group"] + kinds["alias"]
    assert by_outcome["failed"] == PLACEHOLDER_USERS + TOO_DEEP + NO_TIME + NOT_AN_OBJECT
    delivered = [o for o in outcomes if o["outcome"] == "delivered"]
    sent_ids = [o["sent"]["properties"]["$insert_id"] for o in delivered if "properties" in o["sent"]]
    assert set(sent_ids) == imported and len(sent_ids) == len(imported)
    # $set is applied again when its answer was lost and it was re-sent: harmless, and counted.
    assert 0 < sum(1 for o in delivered if "$set" in o["sent"]) <= stats.profile_updates
    assert set(profiles) == {e["userId"] for e in events if e["type"] == "identify"}
    remote = [o for o in outcomes if o["outcome"] == "failed" and o["attempts"]]
    assert len(remote) == PLACEHOLDER_USERS + TOO_DEEP
    assert all(
        o["errortype"] == "PAYLOAD_VALIDATION_FAILED" and o["errormessage"].startswith("properties.") for o in remote
    )
    assert stats.by_status.get(429) and stats.duplicates  # the faults really happened


def test_per_item_retries_resend_only_retryable_events(tmp_path: Path) -> None:
    # 429s and 5xx are answered before anything is read, so an insert id that reached the
    # emulator's validation twice would be an event re-sent after a final answer.
    faults = Faults(rate_limit_every=7, error_ratio=0.2, seed=11)
    with Emulator(project=PROJECT, faults=faults) as emulator:
        proc, outcomes = deliver(tmp_path, emulator, "out.jsonl", profiles=False)
        received = emulator.insert_ids()
        stats = emulator.stats()
    assert proc.returncode == 1, proc.stderr
    assert stats.by_status.get(429) and stats.by_status.get(503) and stats.by_status.get(400)
    assert set(received.values()) == {1}
    attempted = [o for o in outcomes if o["attempts"]]
    assert all(o["outcome"] != "ignored" for o in attempted)
    assert any(o["attempts"] > 1 for o in attempted)
    ignored = [o for o in outcomes if o["outcome"] == "ignored"]
    assert {o["errormessage"] for o in ignored if o["status"] == 200} >= {
        "group profiles are not sent to Mixpanel",
        "Mixpanel takes identify as a profile update only with profiles = true",
    }
    assert all(o["sent"] is None and o["attempts"] == 0 for o in ignored)


def test_a_rerun_carries_the_same_insert_ids_and_imports_nothing_twice(tmp_path: Path) -> None:
    with Emulator(project=PROJECT) as emulator:
        _, first = deliver(tmp_path, emulator, "first.jsonl")
        imported_once = emulator.imported_count()
        _, second = deliver(tmp_path, emulator, "second.jsonl")
        stats = emulator.stats()

    def sent_by_index(outcomes: list[dict[str, Any]]) -> list[Any]:
        return [o["sent"] for o in sorted(outcomes, key=lambda o: o["index"])]

    assert sent_by_index(first) == sent_by_index(second)
    assert stats.events_imported == imported_once
    assert stats.duplicates == imported_once


def test_a_413_splits_the_batch_until_it_fits(tmp_path: Path) -> None:
    with Emulator(project=PROJECT, max_request_bytes=6000) as emulator:
        _proc, outcomes = deliver(tmp_path, emulator, "out.jsonl", profiles=False, batch_size=1000)
        stats = emulator.stats()
    assert stats.by_status.get(413)
    delivered = [o for o in outcomes if o["outcome"] == "delivered"]
    assert len(delivered) == stats.events_imported
    assert all(o["status"] != 413 for o in outcomes)


def test_bad_credentials_stop_the_run_and_fail_every_unfinished_event_as_invalid_authentication(
    tmp_path: Path,
) -> None:
    other = Project(api_secret="another-secret", token="e2e-token")
    with Emulator(project=other) as emulator:
        proc, outcomes = deliver(tmp_path, emulator, "out.jsonl", profiles=False, batch_size=10)
        stats = emulator.stats()
    assert proc.returncode == 1
    assert stats.events_imported == 0
    assert stats.requests <= 3  # at most the requests already in flight (concurrency = 3)
    assert sorted(o["index"] for o in outcomes) == list(range(len(sample_events())))
    failed = [o for o in outcomes if o["status"] == 401]
    assert {(o["outcome"], o["errortype"]) for o in failed} == {("failed", "INVALID_AUTHENTICATION")}
    never_sent = [o for o in failed if o["attempts"] == 0]
    assert never_sent and all("the run stopped" in o["errormessage"] for o in never_sent)
    assert {o["outcome"] for o in outcomes if o["status"] != 401} <= {"ignored", "failed"}
