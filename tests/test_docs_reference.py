"""The reference documentation covers every public name, its examples run, and the site builds
with mkdocs in strict mode (any broken link or reference fails)."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import deliverator
import deliverator.testing
from tests.support import REPO

REFERENCE = REPO / "docs" / "reference"
PAGES = {"deliverator": REFERENCE / "api.md", "deliverator.testing": REFERENCE / "testing.md"}
DIRECTIVE = re.compile(r"^::: (\S+)\n    options:\n      heading: (\S+)$", re.M)


def documented(page: Path) -> dict[str, str]:
    """Heading (the public name) -> the dotted path mkdocstrings renders for it."""
    return {heading: path for path, heading in DIRECTIVE.findall(page.read_text())}


def resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", [deliverator, deliverator.testing], ids=lambda m: m.__name__)
def test_every_public_name_has_a_reference_entry_rendering_that_very_object(module: object) -> None:
    prefix = module.__name__  # type: ignore[attr-defined]  # a module
    entries = documented(PAGES[prefix])
    names = [n for n in module.__all__ if n != "__version__"]  # type: ignore[attr-defined]  # a module
    missing = [n for n in names if f"{prefix}.{n}" not in entries]
    assert not missing, f"docs/reference has no entry for {missing}"
    for name in names:
        assert resolve(entries[f"{prefix}.{name}"]) is getattr(module, name), name
    assert set(entries) == {f"{prefix}.{n}" for n in names}, "an entry for a name that is not public"


@pytest.mark.parametrize("page", sorted(PAGES.values()), ids=lambda p: p.name)
def test_every_entry_has_an_example(page: Path) -> None:
    # An example right after the entry, or one in the docstring mkdocstrings renders.
    entries = re.split(r"(?m)^(?=::: )", page.read_text())[1:]
    without = [
        entry.split()[1]
        for entry in entries
        if "```python" not in entry and "Example" not in (inspect.getdoc(resolve(entry.split()[1])) or "")
    ]
    assert not without, f"entries without an example: {without}"


@pytest.mark.parametrize("page", sorted(PAGES.values()), ids=lambda p: p.name)
def test_every_example_in_the_reference_runs(page: Path) -> None:
    examples = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert examples
    for number, example in enumerate(examples):
        exec(compile(example, f"{page.name} example {number}", "exec"), {"__name__": f"example_{number}"})


def test_the_documentation_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    assert "deliverator.IgnoredResponse" in api and "retry_after_s" in api


def test_the_guides_self_checking_examples_run() -> None:
    guide = (REPO / "docs" / "writing-a-destination.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    # The example that needs the example plugin installed runs in tests/test_deliver_events.py.
    runnable = [b for b in blocks if "assert " in b and 'destination="example"' not in b]
    assert len(runnable) >= 3  # the three shapes of answers and retry_after_s
    for number, block in enumerate(runnable):
        exec(compile(block, f"writing-a-destination.md example {number}", "exec"), {"__name__": f"guide_{number}"})
