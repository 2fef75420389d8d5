"""The Mixpanel page's configuration examples load, and its tables name what the code does."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from deliverator.testing import deliver_events
from deliverator_mixpanel import plugin
from deliverator_mixpanel.payloads import IGNORED_REASONS

PAGE = Path(__file__).resolve().parents[3] / "docs" / "destinations" / "mixpanel.md"
ENVIRONMENT = {"MIXPANEL_SERVICE_ACCOUNT_SECRET": "s", "MIXPANEL_API_SECRET": "s"}


def examples() -> list[str]:
    return [
        block for block in re.findall(r"```toml\n(.*?)```", PAGE.read_text(), flags=re.S) if "[destination]" in block
    ]


@pytest.mark.parametrize("example", examples())
def test_every_config_example_loads_as_a_mixpanel_destination(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    table = tomllib.loads(example)
    assert table["destination"]["name"] == "mixpanel"
    # Validated as a config file is (settings, [delivery], [error_handler], ${NAME}); no events, no request.
    outcomes = deliver_events(
        [],
        plugin,
        table["destination"]["settings"],
        error_handler=table.get("error_handler"),
        **table.get("delivery", {}),
    )
    assert outcomes == []


def test_the_page_has_three_examples_and_quotes_each_ignored_reason() -> None:
    assert len(examples()) == 3
    text = PAGE.read_text()
    for reason in IGNORED_REASONS.values():
        assert f'("{reason}")' in text


def test_the_limits_on_the_page_are_the_plugins() -> None:
    text = PAGE.read_text()
    spec = plugin.SPEC
    assert f"up to {spec.max_batch_items}" in text and f"{spec.default_batch_items} by default" in text
    assert f"{spec.max_batch_bytes:,} bytes" in text and f"{spec.max_item_bytes:,} bytes" in text
