"""Replays keep history: the outcome of a re-delivered dead letter names the event's index in
the first input (``origin_index``), a replay of a replay keeps that first origin, and the
dead-letter files of replays have readable names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from deliverator._delivery.filerun import dead_letter_default
from deliverator._events import decode_input
from tests.services import ExampleService, jsonl, track
from tests.support import cli_env, run_cli
from tests.test_cli import write_config


def _records(path: Path) -> list[dict[str, Any]]:
    return sorted((orjson.loads(line) for line in path.read_bytes().splitlines()), key=lambda r: r["index"])


def test_replaying_dead_letters_keeps_the_first_origin(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    # m-3 fails twice, then is delivered; m-5 is invalid input every time (never sent).
    with ExampleService(items={"m-3": (400, 400, 200)}) as service:
        config = write_config(tmp_path, service.url)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(0), track(1), track(2), track(3), track(4), {"type": "track", "userId": "x"}]))
        first = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
        dead_1 = tmp_path / "events.dead-letter.jsonl"
        second = run_cli(["deliver", str(dead_1), "--config", str(config), "--no-progress"], env)
        dead_2 = tmp_path / "events.dead-letter-2.jsonl"
        third = run_cli(["deliver", str(dead_2), "--config", str(config), "--no-progress"], env)
    assert (first.returncode, second.returncode, third.returncode) == (1, 1, 1), third.stderr
    assert sorted((d["index"], "origin_index" in d) for d in _records(dead_1)) == [(3, False), (5, False)]
    lines_1 = [orjson.loads(line)["index"] for line in dead_1.read_bytes().splitlines()]
    # The replay: outcome records and new dead letters point at the first input's lines.
    replayed = _records(tmp_path / "events.dead-letter.results.jsonl")
    assert [(r["origin_index"], r["outcome"]) for r in replayed] == [(lines_1[r["index"]], "failed") for r in replayed]
    assert sorted(r["origin_index"] for r in replayed) == [3, 5]
    assert sorted(d["origin_index"] for d in _records(dead_2)) == [3, 5]
    lines_2 = [orjson.loads(line)["origin_index"] for line in dead_2.read_bytes().splitlines()]
    # The replay of the replay keeps the first origin, delivered or not.
    again = _records(tmp_path / "events.dead-letter-2.results.jsonl")
    assert [r["origin_index"] for r in again] == [lines_2[r["index"]] for r in again]
    assert sorted((r["origin_index"], r["outcome"]) for r in again) == [(3, "delivered"), (5, "failed")]
    assert [d["origin_index"] for d in _records(tmp_path / "events.dead-letter-3.jsonl")] == [5]
    assert not list(tmp_path.glob("*dead-letter.dead-letter*"))
    assert f"dead letters: {dead_2}" in second.stdout


def test_an_ordinary_input_has_no_origin_index(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(0)]))
        assert run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env).returncode == 0
    (record,) = _records(tmp_path / "events.results.jsonl")
    assert "origin_index" not in record


def test_dead_letter_names_stay_readable() -> None:
    assert dead_letter_default(Path("d/events")) == Path("d/events.dead-letter.jsonl")
    assert dead_letter_default(Path("d/events.dead-letter")) == Path("d/events.dead-letter-2.jsonl")
    assert dead_letter_default(Path("d/events.dead-letter-2")) == Path("d/events.dead-letter-3.jsonl")
    assert dead_letter_default(Path("d/events.dead-letter-x")) == Path("d/events.dead-letter-x.dead-letter.jsonl")


def test_the_origin_of_a_dead_letter_is_its_origin_index_else_its_index() -> None:
    event = {"type": "track", "userId": "u", "event": "E"}
    first = {"event": event, "index": 7, "status": 400, "errortype": "X", "errormessage": "m", "attempts": 1}
    assert decode_input(orjson.dumps(first))[2] == 7
    assert decode_input(orjson.dumps({**first, "origin_index": 2}))[2] == 2
    assert decode_input(orjson.dumps(event))[2] is None
