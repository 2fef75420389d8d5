"""Issue 9, row 7: response-filter predicates that build gigabytes out of steps the sandbox
allowed one by one, and templates too deep to compile; through ``deliverator deliver`` in a
real process, with its peak memory read back."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from deliverator._classification import Action
from deliverator._errorhandling import error_handler_plugin, evallimits, parse_error_handler
from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.errorhandling.helpers import response
from tests.hostile import outcome_records, run_cli_measured
from tests.services import jsonl, track
from tests.support import cli_env, run_cli

MARKER = "zq" * 500  # the body's text: a warning must never show it

# Each would have built gigabytes (and the first two terabytes) with per-step checks alone.
HOSTILE = [
    "{{ response.message" + "|replace('z', 'zz')" * 24 + " == 'x' }}",
    "{{ response.message" + ".replace('z', 'zz')" * 24 + " == 'x' }}",
    "{{ (response.rows" + "|map('replace', 'z', 'zz')" * 14 + "|list)|length == 1 }}",
    "{{ response.deep|tojson(8) == 'x' }}",
    "{{ (" + " ~ ".join(["(response.rows|join)"] * 40) + ") == 'x' }}",
    "{{ (" + " + ".join(["response.nums"] * 60) + ")|length == 1 }}",
]


def _deep(levels: int) -> object:
    value: list[object] = [1] * 1000
    for _ in range(levels):
        value = [value, *([1] * 1000)]
    return value


def _answer(request: RecordedRequest) -> ScriptedResponse:
    items = orjson.loads(request.body)["items"]
    body = {
        "results": [{"status": 200} for _ in items],
        "message": MARKER,
        "rows": [MARKER] * 1000,
        "deep": _deep(200),
        "nums": list(range(100_000)),
    }
    return ScriptedResponse(status=200, body=body)


def _config(url: str, predicates: list[str]) -> str:
    filters = "".join(
        f'\n[[error_handler.response_filters]]\npredicate = {orjson.dumps(p).decode()}\naction = "FAIL"\n'
        for p in predicates
    )
    return f"""
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "tok-123-secret"

[delivery]
linger_s = 0.05
{filters}"""


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site)


def test_predicates_that_amplify_step_by_step_stop_at_a_cap_match_nothing_and_warn_without_values(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "config.toml"
    source = tmp_path / "events.jsonl"
    results = tmp_path / "out.jsonl"
    source.write_bytes(jsonl([track(i) for i in range(5)]))
    with ScriptedServer(_answer) as server:
        config.write_text(_config(server.url, HOSTILE))
        proc, peak_kb = run_cli_measured(
            ["deliver", str(source), "--config", str(config), "--no-progress", "--results", str(results)], env
        )
    assert proc.returncode == 0, proc.stderr
    assert [record["outcome"] for record in outcome_records(results)] == ["delivered"] * 5
    for number in range(len(HOSTILE)):
        assert f"error_handler.response_filters[{number}].predicate could not be evaluated" in proc.stderr
    assert "LimitExceeded" in proc.stderr
    assert "zqzq" not in proc.stderr and "Traceback" not in proc.stderr
    assert peak_kb < 300 * 1024, f"peak RSS {peak_kb} KiB"


@pytest.mark.parametrize(
    "predicate",
    [
        "{{ " + "(" * 100 + "1" + ")" * 100 + " }}",
        "{{ " + "[" * 300 + "]" * 300 + " }}",
        "{{ status" + "|abs" * 3000 + " }}",
    ],
    ids=["100-parentheses", "300-brackets", "3000-filters"],
)
@pytest.mark.parametrize("command", ["deliver", "check"])
def test_a_template_nested_too_deeply_to_compile_is_a_config_error_exit_2(
    tmp_path: Path, env: dict[str, str], predicate: str, command: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(_config("http://127.0.0.1:9", [predicate]))
    source = tmp_path / "events.jsonl"
    source.write_bytes(jsonl([track(0)]))
    args = ["deliver", str(source), "--no-progress"] if command == "deliver" else ["check"]
    proc = run_cli([*args, "--config", str(config)], env)
    assert proc.returncode == 2, proc.stderr
    assert "error_handler.response_filters[0].predicate" in proc.stderr
    assert "nested too deeply" in proc.stderr and "Traceback" not in proc.stderr


def test_an_evaluation_past_its_time_cap_does_not_match_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = error_handler_plugin(
        parse_error_handler({"response_filters": [{"predicate": "{{ response.code == 300 }}", "action": "FAIL"}]})
    )
    assert plugin is not None
    answer = response(200, {"code": 300, "token": "s3cr3t-value"})
    matched = plugin.classify_error(response=answer, error=None, settings=None)
    assert matched is not None and matched.action is Action.FAIL  # the predicate holds...
    monkeypatch.setattr(evallimits, "MAX_SECONDS", -1.0)  # ...but not once its time is up
    with caplog.at_level(logging.WARNING, logger="deliverator._errorhandling"):
        assert plugin.classify_error(response=answer, error=None, settings=None) is None
    assert "took longer than" in caplog.text and "s3cr3t" not in caplog.text
