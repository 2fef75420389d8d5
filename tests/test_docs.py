"""Code in the docs is tested: the example plugin shown is the one the tests run, and every
configuration example parses."""

from __future__ import annotations

import re

import pytest

from deliverator.config import parse_config
from tests.support import EXAMPLE_PLUGIN_SRC, REPO

DOCS = REPO / "docs"


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_plugin_guide_shows_the_example_plugin_exactly() -> None:
    guide = (DOCS / "writing-a-destination.md").read_text()
    python = blocks(guide, "python")
    assert (EXAMPLE_PLUGIN_SRC / "deliverator_example" / "plugin.py").read_text() in python
    assert (EXAMPLE_PLUGIN_SRC / "pyproject.toml").read_text() in blocks(guide, "toml")
    assert (EXAMPLE_PLUGIN_SRC / "tests" / "test_example_conformance.py").read_text() in python


@pytest.mark.parametrize("page", ["guide.md", "writing-a-destination.md"])
def test_every_config_example_parses(page: str) -> None:
    examples = [b for b in blocks((DOCS / page).read_text(), "toml") if "[destination]" in b]
    assert examples
    for example in examples:
        import tomllib

        config = parse_config(tomllib.loads(example), {"CUSTOMERIO_API_KEY": "k", "EXAMPLE_TOKEN": "t"})
        assert config.destination.name
