"""The ``[queue]`` table: defaults, values, and errors that name the key; and the docs'
examples parse."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from deliverator._config import parse_config
from deliverator._errors import ConfigError
from tests.support import REPO

_BASE: dict[str, Any] = {"destination": {"name": "example"}}


def test_without_a_queue_table_the_defaults_hold() -> None:
    queue = parse_config(_BASE, {}).queue
    assert (queue.claim_idle_s, queue.max_deliveries, queue.read_count, queue.block_ms) == (30.0, 10, 200, 1000)


def test_queue_values_are_read() -> None:
    table = {**_BASE, "queue": {"claim_idle_s": 2, "max_deliveries": 3, "read_count": 50, "block_ms": 100}}
    queue = parse_config(table, {}).queue
    assert (queue.claim_idle_s, queue.max_deliveries, queue.read_count, queue.block_ms) == (2.0, 3, 50, 100)


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ({"claim_idle": 3}, "queue: unknown key 'claim_idle'"),
        ({"claim_idle_s": 0}, "claim_idle_s: must be greater than 0"),
        ({"max_deliveries": 0}, "max_deliveries: must be greater than 0"),
        ({"max_deliveries": 2.5}, "expected a whole number"),
        ({"read_count": 100_000}, "read_count"),
    ],
)
def test_bad_queue_values_name_the_key(queue: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**_BASE, "queue": queue}, {})
    assert message in str(caught.value)


def test_the_queue_guide_config_example_parses() -> None:
    text = (REPO / "docs" / "queue.md").read_text()
    examples = [block for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S) if "[queue]" in block]
    assert examples
    for example in examples:
        config = parse_config(tomllib.loads(example), {"CUSTOMERIO_API_KEY": "k"})
        assert config.queue == parse_config(_BASE, {}).queue  # the guide shows the defaults
