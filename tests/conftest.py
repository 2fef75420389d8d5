"""Shared fixtures: the example plugin from the docs, installed distributions faked the way
pluggy's own tests do (a real ``.dist-info`` on ``sys.path``), and CLI runs in subprocesses."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import EXAMPLE_PLUGIN_SRC, write_distribution


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A site folder where the docs' example plugin is installed as ``deliverator-example``."""
    site = tmp_path / "site"
    write_distribution(
        site, "deliverator-example", {"deliverator.destinations": {"example": "deliverator_example.plugin"}}
    )
    return site


@pytest.fixture
def example_plugin() -> Iterator[ModuleType]:
    """The docs' example plugin module, imported in-process."""
    sys.path.insert(0, str(EXAMPLE_PLUGIN_SRC))
    try:
        import deliverator_example.plugin as module

        yield module
    finally:
        sys.path.remove(str(EXAMPLE_PLUGIN_SRC))
