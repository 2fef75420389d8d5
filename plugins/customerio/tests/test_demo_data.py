"""The bundled sample stream: reproducible to the byte, every event type, and exactly the
intended 5 % of invalid events, half caught before sending and half only by Customer.io's
limits. The invalid ones are recognised here by criteria of the tests' own, not the
generator's."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from deliverator.testing import Destination, InvalidRecord, check_event
from deliverator_customerio import demo
from deliverator_customerio.emulator import validate_item

TYPES = {"identify", "track", "page", "screen", "group", "alias"}


def sample_lines() -> list[str]:
    return files("deliverator_customerio").joinpath(demo.SAMPLE_FILE).read_text("utf-8").splitlines()


def problem_of(line: str) -> str | None:
    """What is wrong with one line, judged independently of the generator; None if nothing."""
    try:
        event = json.loads(line)
    except ValueError:
        return "not JSON"
    if event.get("type") not in TYPES:
        return "unknown type"
    if not event.get("userId") and not event.get("anonymousId"):
        return "no userId or anonymousId"
    if event["type"] == "track" and not event.get("event"):
        return "track without event"
    if event["type"] == "group" and not event.get("groupId"):
        return "group without groupId"
    if event["type"] == "track" and len(event["event"].encode()) > 100:
        return "event name over 100 bytes"
    if any(len(json.dumps(v, ensure_ascii=False).encode()) > 1000 for v in event.get("properties", {}).values()):
        return "property value over 1000 bytes"
    if any(len(name.encode()) > 150 for name in event.get("traits", {})):
        return "trait name over 150 bytes"
    return None


LOCAL = {"not JSON", "unknown type", "no userId or anonymousId", "track without event", "group without groupId"}


def test_bundled_sample_is_exactly_what_the_generator_makes() -> None:
    bundled = files("deliverator_customerio").joinpath(demo.SAMPLE_FILE).read_bytes()
    assert bundled == demo.render_sample()


def test_generating_again_gives_the_same_bytes() -> None:
    assert demo.render_sample() == demo.render_sample()
    assert demo.render_sample(seed=1) != demo.render_sample()


def test_module_rewrites_the_file_and_check_reports_drift(tmp_path: Path) -> None:
    target = tmp_path / "sample.jsonl"
    module = [sys.executable, "-m", "deliverator_customerio.demo", "--output", str(target)]
    written = subprocess.run(module, capture_output=True, text=True, timeout=60, check=False)
    assert written.returncode == 0, written.stderr
    assert target.read_bytes() == demo.render_sample()
    assert subprocess.run([*module, "--check"], capture_output=True, timeout=60, check=False).returncode == 0
    target.write_bytes(target.read_bytes().replace(b"Order Completed", b"Order Complete", 1))
    drift = subprocess.run([*module, "--check"], capture_output=True, text=True, timeout=60, check=False)
    assert drift.returncode == 1
    assert "out of date" in drift.stderr


def test_sample_has_600_events_of_every_type() -> None:
    lines = sample_lines()
    assert len(lines) == 600
    kinds = Counter(json.loads(line)["type"] for line in lines if problem_of(line) is None)
    assert set(kinds) == TYPES
    assert min(kinds.values()) >= 20


def test_five_percent_are_invalid_in_the_intended_ways() -> None:
    problems = Counter(problem for problem in map(problem_of, sample_lines()) if problem is not None)
    assert problems == {
        "not JSON": 3,
        "unknown type": 3,
        "no userId or anonymousId": 3,
        "track without event": 3,
        "group without groupId": 3,
        "event name over 100 bytes": 5,
        "property value over 1000 bytes": 5,
        "trait name over 150 bytes": 5,
    }
    assert sum(problems.values()) / 600 == 0.05


def test_invalid_events_are_scattered_through_the_stream() -> None:
    positions = [n for n, line in enumerate(sample_lines()) if problem_of(line) is not None]
    assert positions[0] < 100 and positions[-1] > 500


def test_locally_invalid_events_are_refused_by_the_core_and_the_rest_pass_it() -> None:
    for line in sample_lines():
        problem = problem_of(line)
        if problem == "not JSON":
            continue
        event = json.loads(line)
        if problem in LOCAL:
            with pytest.raises(InvalidRecord):
                check_event(event)
        else:
            assert check_event(event) is event


def test_only_the_emulator_refuses_the_remotely_invalid_events(make_destination: Callable[..., Destination]) -> None:
    destination = make_destination()
    verdicts: Counter[tuple[str | None, bool]] = Counter()
    for line in sample_lines():
        problem = problem_of(line)
        if problem in LOCAL:
            continue
        item = destination.build_payload(json.loads(line))  # the plugin maps every one of them
        verdicts[(problem, not validate_item(item))] += 1
    assert verdicts == {
        (None, True): 570,
        ("event name over 100 bytes", False): 5,
        ("property value over 1000 bytes", False): 5,
        ("trait name over 150 bytes", False): 5,
    }


def test_events_have_unique_message_ids_and_iso_timestamps_in_order() -> None:
    events: list[dict[str, Any]] = []
    for line in sample_lines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    message_ids = [event["messageId"] for event in events]
    assert len(set(message_ids)) == len(message_ids)
    times = [datetime.fromisoformat(event["timestamp"]) for event in events]
    assert times == sorted(times)
    assert all(event["timestamp"].endswith("Z") for event in events)
