"""``deliverator deliver`` in a real process against the emulator: every record ends exactly
once, the emulator holds each delivered event exactly once whatever faults it injected, a 400
naming events re-sends only the others, and insert ids are the same on every re-run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from deliverator_amplitude.emulator import Emulator, Faults

KEY = "amp-key-do-not-print-5d1f0e"
CONFIG = """
[destination]
name = "amplitude"

[destination.settings]
api_key = "${{AMP_KEY}}"
endpoint = "{url}"

[delivery]
batch_size = {batch_size}
concurrency = 2
timeout_s = 5
linger_s = 0.05

[error_handler]
max_retries = 40
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


def stream(
    count: int, placeholders: tuple[int, ...] = (), short: tuple[int, ...] = (), ignored: tuple[int, ...] = ()
) -> list[dict[str, Any]]:
    """``count`` events of 12 users: tracks, pages, screens and identifies; ``placeholders``
    get the userId "anonymous" (Amplitude refuses it), ``short`` a userId under 5 characters,
    ``ignored`` become group and alias calls."""
    events: list[dict[str, Any]] = []
    for n in range(count):
        event: dict[str, Any] = {
            "messageId": f"e2e-{n}",
            "userId": f"user-{n % 12:03d}",
            "timestamp": 1_712_311_872 + n,
        }
        kind = ("group", "alias")[n % 2] if n in ignored else ("track", "track", "page", "screen", "identify")[n % 5]
        event["type"] = kind
        if kind == "track":
            event.update(event="Song Played", properties={"n": n})
        elif kind == "identify":
            event["traits"] = {"plan": "free"}
        elif kind == "group":
            event["groupId"] = "band-1"
        elif kind == "alias":
            event["previousId"] = "old-id-1"
        else:
            event["name"] = "Home"
        if n in placeholders:
            event["userId"] = "anonymous"
        if n in short:
            event["userId"] = "u1"
        events.append(event)
    return events


def deliver(tmp_path: Path, url: str, events: list[dict[str, Any]], name: str = "run", batch_size: int = 20) -> Any:
    (tmp_path / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=url, batch_size=batch_size))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERATOR_")}
    env["AMP_KEY"] = KEY
    files = ["--results", f"{name}.jsonl", "--dead-letter", f"{name}.dead.jsonl"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deliverator",
            "deliver",
            "events.jsonl",
            "--config",
            str(config),
            "--no-progress",
            *files,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outcomes = [orjson.loads(line) for line in (tmp_path / f"{name}.jsonl").read_bytes().splitlines()]
    return proc, {o["index"]: o for o in outcomes}


def test_every_event_ends_once_and_is_held_once_despite_faults(tmp_path: Path) -> None:
    faults = Faults(error_ratio=0.2, accept_then_error_ratio=0.15, latency_s=0.002, seed=3)
    events = stream(150, placeholders=(7, 88), short=(40,), ignored=(20, 21))
    with Emulator(api_key=KEY, faults=faults) as emulator:
        proc, outcomes = deliver(tmp_path, emulator.url, events)
        kept = Counter(e["insert_id"] for e in emulator.kept())
        stats = emulator.stats()
    assert proc.returncode == 1, proc.stderr  # three events are wrong on purpose
    assert sorted(outcomes) == list(range(150))
    failed = {i for i, o in outcomes.items() if o["outcome"] == "failed"}
    assert failed == {7, 40, 88}
    assert outcomes[40]["attempts"] == 0 and "min_id_length" in outcomes[40]["errormessage"]
    for index in (7, 88):
        assert outcomes[index]["status"] == 400 and outcomes[index]["errortype"] == "PAYLOAD_VALIDATION_FAILED"
        assert "user_id invalid" in outcomes[index]["errormessage"]
    for index in (20, 21):
        assert outcomes[index]["outcome"] == "ignored" and outcomes[index]["attempts"] == 0
        assert outcomes[index]["sent"] is None and "not sent" in outcomes[index]["errormessage"]
    delivered = [o for i, o in outcomes.items() if i not in failed | {20, 21}]
    assert all(o["outcome"] == "delivered" for o in delivered)
    assert sorted(kept) == sorted(o["sent"]["insert_id"] for o in delivered)
    assert set(kept.values()) == {1}
    # The faults really happened: requests failed, and some were ingested before failing.
    assert stats.by_status.get(503, 0) > 0 and stats.by_status.get(500, 0) > 0 and stats.duplicates > 0
    assert KEY not in proc.stdout + proc.stderr + (tmp_path / "run.jsonl").read_text()
    assert len((tmp_path / "run.dead.jsonl").read_bytes().splitlines()) == 3


def test_a_400_re_sends_only_the_events_it_did_not_name(tmp_path: Path) -> None:
    events = stream(40, placeholders=(3, 25))
    with Emulator(api_key=KEY) as emulator:
        proc, outcomes = deliver(tmp_path, emulator.url, events, batch_size=20)
        received = emulator.received_insert_ids()
    assert proc.returncode == 1
    for index, outcome in outcomes.items():
        insert_id = outcome["sent"]["insert_id"]
        if index in (3, 25):
            assert outcome["outcome"] == "failed" and outcome["attempts"] == 1
            assert received[insert_id] == 1  # never sent again
        else:
            assert outcome["outcome"] == "delivered" and outcome["attempts"] == 2
            assert received[insert_id] == 2  # refused with its batch once, then sent on its own


def test_insert_ids_are_the_same_on_a_re_run_so_nothing_is_held_twice(tmp_path: Path) -> None:
    events = stream(60)
    with Emulator(api_key=KEY) as emulator:
        first_proc, first = deliver(tmp_path, emulator.url, events, name="first")
        second_proc, second = deliver(tmp_path, emulator.url, events, name="second")
        kept, duplicates = emulator.kept_count(), emulator.stats().duplicates
    assert first_proc.returncode == 0 and second_proc.returncode == 0, second_proc.stderr
    assert [first[i]["sent"]["insert_id"] for i in range(60)] == [second[i]["sent"]["insert_id"] for i in range(60)]
    assert (kept, duplicates) == (60, 60)


def test_a_wrong_api_key_stops_the_run_with_a_config_error(tmp_path: Path) -> None:
    with Emulator(api_key="another-project-key") as emulator:
        proc, outcomes = deliver(tmp_path, emulator.url, stream(30), batch_size=10)
        requests = emulator.stats().requests
    assert proc.returncode == 1
    assert requests <= 2  # at most the requests already in flight: the run stopped
    assert any("stopped" in o["errormessage"] and o["attempts"] == 0 for o in outcomes.values())
    assert all(o["outcome"] == "failed" and o["errortype"] == "INVALID_AUTHENTICATION" for o in outcomes.values())
    assert KEY not in proc.stdout + proc.stderr + (tmp_path / "run.jsonl").read_text()


def test_a_413_splits_the_batch_until_it_fits_and_an_event_too_large_alone_fails(tmp_path: Path) -> None:
    events = stream(24)
    events[5]["properties"] = {"blob": "x" * 3000}
    with Emulator(api_key=KEY, max_events=4, max_body_bytes=3000) as emulator:
        proc, outcomes = deliver(tmp_path, emulator.url, events, batch_size=20)
        kept = emulator.kept_count()
        statuses = emulator.stats().by_status
    assert proc.returncode == 1
    assert outcomes[5]["outcome"] == "failed" and outcomes[5]["status"] == 413
    assert outcomes[5]["errortype"] == "PAYLOAD_TOO_LARGE"
    assert all(o["outcome"] == "delivered" for i, o in outcomes.items() if i != 5)
    assert kept == 23 and statuses[413] >= 3
