"""``docs/destinations/amplitude.md`` is tested: every TOML example is a valid configuration
for this plugin, the Python example runs and gives what it shows, and the names the page uses
(event types, emulator options) are the code's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from deliverator import Secret
from deliverator.testing import load_destination
from deliverator_amplitude import plugin
from deliverator_amplitude.emulator.cli import command
from deliverator_amplitude.payloads import build_event
from deliverator_amplitude.settings import AmplitudeSettings

PAGE = Path(__file__).resolve().parents[3] / "docs" / "destinations" / "amplitude.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), flags=re.S)


@pytest.mark.parametrize("example", blocks("toml"))
def test_every_config_example_loads_as_an_amplitude_destination(example: str) -> None:
    key = "0123456789abcdef0123456789abcdef"
    table = tomllib.loads(example.replace("${AMPLITUDE_API_KEY}", key))
    assert table["destination"]["name"] == "amplitude"
    destination = load_destination(plugin, table["destination"]["settings"])
    assert destination.settings.api_key.reveal() == "0123456789abcdef0123456789abcdef"


def test_there_are_config_examples() -> None:
    assert len(blocks("toml")) >= 2


def test_the_python_example_runs_and_gives_what_it_shows() -> None:
    (example,) = blocks("python")
    code, shown = example.split("\n# ", 1)
    namespace: dict[str, object] = {}
    exec(compile(code + "\nresult = " + code.strip().splitlines()[-1], str(PAGE), "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, dict)
    for key in re.findall(r"'(\w+)':", shown):
        assert key in result
    assert str(result["insert_id"]).startswith("dlv-")


def test_every_emulator_option_the_page_names_exists() -> None:
    named = set(re.findall(r"`(--[a-z-]+)", PAGE.read_text()))
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert named and named <= options


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        ({"type": "page"}, "`Loaded a Page`"),
        ({"type": "screen"}, "`Loaded a Screen`"),
        ({"type": "page", "name": "Home"}, "`Viewed <name> Page`"),
        ({"type": "identify", "traits": {"a": 1}}, '`user_properties` = `{"$set": traits}`'),
    ],
)
def test_the_mapping_the_page_shows_is_what_the_plugin_builds(event: dict[str, object], shown: str) -> None:
    assert shown in PAGE.read_text()
    built = build_event({**event, "userId": "user-1"}, AmplitudeSettings(api_key=Secret("k")))
    if "user_properties" in shown:
        assert built["user_properties"] == {"$set": {"a": 1}}
    else:
        assert built["event_type"] == shown.strip("`").replace("<name>", "Home")
