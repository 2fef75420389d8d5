"""A config file with several mistakes reports them all in one run, each unknown key with the
closest expected key and the list of keys its table takes; ``check`` warns about what
``deliver`` warns about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deliverator._config import parse_config
from deliverator._errors import ConfigError
from tests.services import ExampleService, track
from tests.support import cli_env, run_cli
from tests.test_cli import CONFIG, write_config, write_events

TWO_MISTAKES = """
[destination]
name = "example"

[destination.settings]
endpoint = "http://127.0.0.1:9"
tokn = "t"

[delivery]
batchsize = 3
"""


@pytest.mark.parametrize("command", ["deliver", "check"])
def test_every_mistake_of_a_file_is_reported_in_one_run(tmp_path: Path, example_site: Path, command: str) -> None:
    config = write_config(tmp_path, "", text=TWO_MISTAKES)
    events = write_events(tmp_path, [track(0)])
    args = ["deliver", str(events)] if command == "deliver" else ["check"]
    options = ["--no-progress"] if command == "deliver" else []
    proc = run_cli([*args, "--config", str(config), *options], cli_env(example_site))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "3 problems" in proc.stderr
    assert "delivery: unknown key 'batchsize' (did you mean 'batch_size'?)" in proc.stderr
    assert "destination.settings: unknown key 'tokn' (did you mean 'token'?)" in proc.stderr
    assert "destination.settings.token: required key missing" in proc.stderr
    # The misspelt key is listed before the "missing" key it explains.
    assert proc.stderr.index("'tokn'") < proc.stderr.index("token: required key missing")
    assert not (tmp_path / "events.results.jsonl").exists()


GOOD: dict[str, Any] = {
    "destination": {"name": "example", "settings": {}},
    "error_handler": {
        "backoff_strategies": [{"type": "exponential"}],
        "response_filters": [{"http_codes": [500], "action": "RETRY"}],
    },
}


@pytest.mark.parametrize(
    ("path", "typo", "suggestion", "listed"),
    [
        ((), "delivry", "delivery", "destination, delivery, error_handler"),
        (("destination",), "nmae", "name", "name, settings"),
        (("delivery",), "concurency", "concurrency", "linger_s"),
        (("error_handler",), "max_tim", "max_time", "response_filters"),
        (("error_handler", "backoff_strategies", 0), "factr", "factor", "type, factor, jitter_range_in_seconds"),
        (("error_handler", "response_filters", 0), "acton", "action", "error_message_contains"),
    ],
)
def test_every_table_suggests_the_closest_key_and_lists_the_expected_ones(
    path: tuple[str | int, ...], typo: str, suggestion: str, listed: str
) -> None:
    import copy

    table = copy.deepcopy(GOOD)
    if not path:
        table[typo] = {}
    else:
        place: Any = table
        for step in path:
            place = place.setdefault(step, {}) if isinstance(step, str) else place[step]
        place[typo] = 1
    with pytest.raises(ConfigError) as caught:
        parse_config(table, {})
    text = str(caught.value)
    assert f"{typo!r} (did you mean {suggestion!r}?)" in text
    assert "expected one of: " in text and listed in text


def test_every_strategy_type_lists_its_own_keys() -> None:
    for kind, key in [
        ("constant", "backoff_time_in_seconds"),
        ("wait_time_from_header", "max_waiting_time_in_seconds"),
        ("wait_until_time_from_header", "min_wait"),
    ]:
        with pytest.raises(ConfigError, match=f"expected one of: type, .*{key}"):
            parse_config({**GOOD, "error_handler": {"backoff_strategies": [{"type": kind, "zzz": 1}]}}, {})


def test_several_missing_environment_variables_are_all_named() -> None:
    table = {"destination": {"name": "example", "settings": {"a": "${ONE}", "b": "${TWO}"}}}
    with pytest.raises(ConfigError) as caught:
        parse_config(table, {})
    assert [p.where for p in caught.value.problems] == ["destination.settings.a", "destination.settings.b"]


def test_a_single_problem_reads_as_before() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"destination": {"name": "example"}, "delivery": {"linger_s": -1}}, {})
    assert str(caught.value) == "delivery.linger_s: must not be negative, got -1"
    assert caught.value.where == "delivery.linger_s"


def test_check_warns_about_a_batch_size_over_the_limit_as_deliver_does(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t"})
    with ExampleService() as service:
        text = CONFIG.format(url=service.url).replace("batch_size = 5", "batch_size = 500")
        config = write_config(tmp_path, "", text=text)
        events = write_events(tmp_path, [track(0)])
        checked = run_cli(["check", "--config", str(config)], env)
        delivered = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert (checked.returncode, delivered.returncode) == (0, 0), checked.stderr + delivered.stderr
    warning = "warning: delivery.batch_size 500 is over example's limit of 50 items per request; using 50"
    assert warning in checked.stderr
    assert warning in delivered.stderr


def test_the_guide_shows_the_real_output_for_a_file_with_mistakes(tmp_path: Path, example_site: Path) -> None:
    from tests.support import REPO

    guide = (REPO / "docs" / "guide.md").read_text()
    section = guide[guide.index("### Mistakes in the file") :]
    shown_config = section.split("```toml\n", 1)[1].split("```", 1)[0]
    shown_output = section.split("```text\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "mistakes.toml"
    config.write_text(shown_config)
    proc = run_cli(["check", "--config", str(config)], cli_env(example_site))
    assert proc.returncode == 2
    assert proc.stderr == shown_output
