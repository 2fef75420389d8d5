"""``[error_handler]`` end to end: ``deliverator deliver`` in a real process against a real
loopback service, with response filters and backoff strategies from the config file.

Waits are configured to a few hundredths of a second (the CLI runs on the real clock); the
exact waits are tested on a virtual clock in tests/errorhandling. The two events always travel
in one batch: the end of the input closes it, not the linger (on a loaded machine a linger of
a hundredth of a second could split them, and every request count would double).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest

from deliverator.testing import ScriptedResponse
from tests.services import ExampleService, jsonl, track
from tests.support import cli_env, run_cli

BASE = """
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "${{EXAMPLE_TOKEN}}"

[delivery]
batch_size = 10
concurrency = 1
linger_s = 30

[error_handler]
max_retries = {max_retries}
max_time = {max_time}
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok-e2e-secret"})


def deliver(
    tmp_path: Path, env: dict[str, str], url: str, filters: str = "", *, max_retries: int = 3, max_time: float = 60
) -> tuple[int, str, str, list[dict[str, object]]]:
    config = tmp_path / "config.toml"
    config.write_text(BASE.format(url=url, max_retries=max_retries, max_time=max_time) + filters)
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl([track(0), track(1)]))
    proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    results_path = tmp_path / "events.results.jsonl"
    outcomes = [orjson.loads(line) for line in results_path.read_bytes().splitlines()] if results_path.exists() else []
    return proc.returncode, proc.stdout, proc.stderr, sorted(outcomes, key=lambda o: o["index"])


def first_then_normal(first: ScriptedResponse) -> ExampleService:
    """The service answers ``first`` to the first request and normally afterwards."""
    return ExampleService(request_script=lambda number: first if number == 1 else None)


def test_a_200_with_a_busy_body_is_retried_by_a_predicate_filter(tmp_path: Path, env: dict[str, str]) -> None:
    filters = """
[[error_handler.response_filters]]
predicate = "{{ response.state == 'busy' }}"
action = "RETRY"
"""
    # A well-formed answer that the plugin alone would read as "both delivered".
    busy = ScriptedResponse(status=200, body={"state": "busy", "results": [{"status": 200}, {"status": 200}]})
    with first_then_normal(busy) as service:
        code, _, stderr, outcomes = deliver(tmp_path, env, service.url, filters)
    assert code == 0, stderr
    assert [o["outcome"] for o in outcomes] == ["delivered", "delivered"]
    assert [o["attempts"] for o in outcomes] == [2, 2]
    assert service.requests == 2


def test_a_403_the_defaults_would_fail_is_retried_by_an_http_codes_filter(tmp_path: Path, env: dict[str, str]) -> None:
    filters = """
[[error_handler.response_filters]]
http_codes = [403]
action = "RETRY"
"""
    with first_then_normal(ScriptedResponse(status=403, body={"message": "overloaded"})) as service:
        code, _, stderr, outcomes = deliver(tmp_path, env, service.url, filters)
    assert code == 0, stderr
    assert [o["attempts"] for o in outcomes] == [2, 2]


def test_without_the_filter_the_same_403_fails_every_item(tmp_path: Path, env: dict[str, str]) -> None:
    with first_then_normal(ScriptedResponse(status=403, body={"message": "overloaded"})) as service:
        code, _, _, outcomes = deliver(tmp_path, env, service.url)
    assert code == 1
    assert [(o["outcome"], o["status"], o["attempts"]) for o in outcomes] == [("failed", 403, 1)] * 2
    assert service.requests == 1


def test_an_ignore_filter_records_every_item_as_ignored(tmp_path: Path, env: dict[str, str]) -> None:
    filters = """
[[error_handler.response_filters]]
error_message_contains = "already unsubscribed"
action = "IGNORE"
error_message = "harmless: {{ response.message }}"
"""
    with first_then_normal(ScriptedResponse(status=400, body={"message": "already unsubscribed"})) as service:
        code, stdout, stderr, outcomes = deliver(tmp_path, env, service.url, filters)
    assert code == 0, stderr
    assert "0 delivered, 0 failed, 2 ignored" in stdout
    assert [o["outcome"] for o in outcomes] == ["ignored", "ignored"]
    assert service.requests == 1


def test_a_fail_filter_on_a_200_fails_at_once_with_the_rendered_message(tmp_path: Path, env: dict[str, str]) -> None:
    filters = """
[[error_handler.response_filters]]
predicate = "{{ status == 200 and response.state == 'suspended' }}"
action = "FAIL"
error_message = "workspace {{ response.workspace }} is suspended"
"""
    with first_then_normal(ScriptedResponse(status=200, body={"state": "suspended", "workspace": "w-9"})) as service:
        code, _, _, outcomes = deliver(tmp_path, env, service.url, filters)
    assert code == 1
    assert [o["outcome"] for o in outcomes] == ["failed", "failed"]
    assert all("workspace w-9 is suspended" in str(o["errormessage"]) for o in outcomes)
    assert service.requests == 1


def test_max_retries_bounds_the_attempts(tmp_path: Path, env: dict[str, str]) -> None:
    with ExampleService(request_script=lambda _: ScriptedResponse(status=503, body={"message": "down"})) as service:
        code, _, _, outcomes = deliver(tmp_path, env, service.url, max_retries=2)
    assert code == 1
    assert [(o["status"], o["attempts"]) for o in outcomes] == [(503, 3), (503, 3)]
    assert service.requests == 3


def test_a_retry_after_beyond_max_time_gives_up_at_once_saying_why(tmp_path: Path, env: dict[str, str]) -> None:
    answer = ScriptedResponse(status=429, headers={"Retry-After": "3600"}, body={"message": "slow down"})
    started = time.monotonic()
    with ExampleService(request_script=lambda _: answer) as service:
        code, _, _, outcomes = deliver(tmp_path, env, service.url, max_time=60)
    assert time.monotonic() - started < 30
    assert code == 1
    assert service.requests == 1
    for outcome in outcomes:
        assert outcome["status"] == 429 and outcome["attempts"] == 1
        assert "Retry-After" in str(outcome["errormessage"])
        assert "max_time" in str(outcome["errormessage"])


def test_retry_after_is_waited_even_when_the_strategy_says_less(tmp_path: Path, env: dict[str, str]) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    def script(number: int) -> ScriptedResponse | None:
        with lock:
            arrivals.append(time.monotonic())
        if number == 1:
            return ScriptedResponse(status=503, headers={"Retry-After": "0.4"})
        return None

    with ExampleService(request_script=script) as service:
        code, _, stderr, _ = deliver(tmp_path, env, service.url)
    assert code == 0, stderr
    assert service.requests == 2
    assert arrivals[1] - arrivals[0] >= 0.4


def test_a_header_wait_over_its_cap_fails_the_batch_naming_the_cap(tmp_path: Path, env: dict[str, str]) -> None:
    config_tail = """
[[error_handler.response_filters]]
http_codes = [418]
action = "RETRY"
"""
    answer = ScriptedResponse(status=418, headers={"X-Wait": "wait=900"})
    with ExampleService(request_script=lambda _: answer) as service:
        config = tmp_path / "config.toml"
        text = BASE.format(url=service.url, max_retries=3, max_time=60).replace(
            'backoff_strategies = [{ type = "constant", backoff_time_in_seconds = 0.01 }]',
            'backoff_strategies = [{ type = "wait_time_from_header", header = "X-Wait", regex = "wait=(\\\\d+)", '
            "max_waiting_time_in_seconds = 120 }]",
        )
        config.write_text(text + config_tail)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(0)]))
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert proc.returncode == 1, proc.stderr
    (outcome,) = [orjson.loads(line) for line in (tmp_path / "events.results.jsonl").read_bytes().splitlines()]
    assert outcome["attempts"] == 1
    assert "max_waiting_time_in_seconds" in outcome["errormessage"]
    assert service.requests == 1


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        (
            '[[error_handler.response_filters]]\npredicate = "{{ response.code == }}"\naction = "RETRY"\n',
            "error_handler.response_filters[0].predicate",
        ),
        ('[[error_handler.response_filters]]\nhttp_codes = [500]\naction = "PANIC"\n', "'PANIC'"),
        ('[[error_handler.response_filters]]\naction = "RETRY"\n', "at least one condition"),
        (
            '[[error_handler.response_filters]]\nhttp_codes = [500]\naction = "RETRY"\nerror_mesage = "x"\n',
            "unknown key 'error_mesage'",
        ),
    ],
)
def test_error_handler_config_errors_exit_2_naming_the_problem(
    tmp_path: Path, env: dict[str, str], filters: str, named: str
) -> None:
    code, _, stderr, _ = deliver(tmp_path, env, "http://127.0.0.1:9", filters)
    assert code == 2
    assert named in stderr
    assert "Traceback" not in stderr
