"""Meta-tests that keep the hook contract honest (datasette's idea): every hook in
``deliverator.hookspecs`` is documented in docs/hooks.md with the same arguments, and some test
other than this one exercises it."""

from __future__ import annotations

import inspect
import re

import pytest

from deliverator import hookspecs
from tests.support import REPO

HOOKS = sorted(
    name for name, value in vars(hookspecs).items() if inspect.isfunction(value) and hasattr(value, "deliverator_spec")
)
DOCS = (REPO / "docs" / "hooks.md").read_text()
TEST_SOURCES = {
    path: path.read_text()
    for folder in (REPO / "tests", *(REPO / "plugins").glob("*/tests"))
    for path in folder.rglob("test_*.py")
    if path.name != "test_hook_contract.py"
}


def test_the_contract_has_the_hooks_design_names() -> None:
    assert {"destination_spec", "build_payload", "send_batch", "parse_response", "classify_error"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_the_same_arguments(hook: str) -> None:
    assert f"## {hook}\n" in DOCS, f"docs/hooks.md has no section for {hook}"
    match = re.search(rf"def {hook}\(([^)]*)\)", DOCS)
    assert match, f"docs/hooks.md shows no signature for {hook}"
    documented = [arg.strip().split(":")[0].strip() for arg in match.group(1).split(",") if arg.strip()]
    actual = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert documented == actual


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    users = [path.name for path, text in TEST_SOURCES.items() if re.search(rf"\b{hook}\b", text)]
    assert users, f"no test mentions the {hook} hook"
