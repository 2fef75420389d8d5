"""Issue 9, row 9 (input half): a file saved with a byte order mark, and records nested deeper
than a payload can be written, through ``deliverator deliver`` in real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverator._events import MAX_DEPTH
from tests.hostile import outcome_records
from tests.services import ExampleService, jsonl, track
from tests.support import cli_env, run_cli

CONFIG = """
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "tok-123-secret"

[delivery]
linger_s = 0.05
"""


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site)


def deliver(tmp_path: Path, env: dict[str, str], url: str, source: Path, name: str) -> tuple[int, Path, Path]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=url))
    results, dead = tmp_path / f"{name}.results.jsonl", tmp_path / f"{name}.dead.jsonl"
    args = ["deliver", str(source), "--config", str(config), "--no-progress"]
    proc = run_cli([*args, "--results", str(results), "--dead-letter", str(dead)], env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, results, dead


def test_a_leading_utf8_bom_is_read_as_utf8_and_record_0_is_delivered(tmp_path: Path, env: dict[str, str]) -> None:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + jsonl([track(i) for i in range(3)]))
    with ExampleService() as service:
        code, results, _ = deliver(tmp_path, env, service.url, source, "bom")
        delivered = set(service.delivered)
    assert code == 0
    records = sorted(outcome_records(results), key=lambda record: int(str(record["index"])))
    assert [record["outcome"] for record in records] == ["delivered"] * 3
    assert records[0]["message_id"] == track(0)["messageId"] and track(0)["messageId"] in delivered


@pytest.mark.parametrize("levels", [254, 255, 600, 1022])
def test_input_nested_past_the_limit_is_a_400_whose_dead_letter_reads_back(
    tmp_path: Path, env: dict[str, str], levels: int
) -> None:
    # The record is one level, its properties the rest (written by hand: orjson would refuse).
    properties = b'{"a":' * (levels - 1) + b'"bottom"' + b"}" * (levels - 1)
    record = b'{"type":"track","userId":"u-1","event":"Deep","messageId":"m-deep","properties":' + properties + b"}"
    source = tmp_path / "events.jsonl"
    source.write_bytes(jsonl([track(0)]) + record + b"\n" + jsonl([track(2)]))
    with ExampleService() as service:
        code, results, dead = deliver(tmp_path, env, service.url, source, "deep")
        assert code == 1
        by_index = {record["index"]: record for record in outcome_records(results)}
        assert by_index[0]["outcome"] == by_index[2]["outcome"] == "delivered"
        failed = by_index[1]
        assert (failed["status"], failed["errortype"]) == (400, "PAYLOAD_VALIDATION_FAILED")
        assert f"nested more than {MAX_DEPTH} levels" in str(failed["errormessage"])
        (letter,) = dead.read_bytes().splitlines()
        # Delivering the dead-letter file again: the same verdict, and the same original event.
        again_code, again_results, again_dead = deliver(tmp_path, env, service.url, dead, "again")
    assert again_code == 1
    (again,) = outcome_records(again_results)
    assert (again["status"], again["errortype"]) == (400, "PAYLOAD_VALIDATION_FAILED")
    assert again["errormessage"] == failed["errormessage"]
    (second_letter,) = again_dead.read_bytes().splitlines()
    # Compared as bytes: == on values this deep would exceed Python's recursion limit.
    assert letter.startswith(b'{"event":' + record + b",")
    assert second_letter.startswith(b'{"event":' + record + b",")
