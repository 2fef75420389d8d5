"""Meta-tests that keep the hook contract honest (datasette's idea): every hook in
``deliverator.hookspecs`` is documented in docs/hooks.md with a signature identical to the
spec's (argument names, their types and the return type), and has a test named
``test_hook_<name>``."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from deliverator import hookspecs
from tests.support import REPO

HOOKS = sorted(
    name for name, value in vars(hookspecs).items() if inspect.isfunction(value) and hasattr(value, "deliverator_spec")
)
DOCS = (REPO / "docs" / "hooks.md").read_text()
TEST_FUNCTIONS = {
    node.name
    for folder in (REPO / "tests", *(REPO / "plugins").glob("*/tests"))
    for path in folder.rglob("test_*.py")
    for node in ast.walk(ast.parse(path.read_text()))
    if isinstance(node, ast.FunctionDef)
}


def spec_signature(hook: str) -> str:
    """The spec's signature as docs/hooks.md writes it: ``def name(arg: Type, ...) -> Type``."""
    signature = inspect.signature(getattr(hookspecs, hook))
    arguments = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"def {hook}({arguments}) -> {signature.return_annotation}"


def test_the_contract_has_the_hooks_design_names() -> None:
    assert {"destination_spec", "build_payload", "send_batch", "parse_response", "classify_error"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_the_specs_signature(hook: str) -> None:
    assert f"## {hook}\n" in DOCS, f"docs/hooks.md has no section for {hook}"
    section = DOCS.split(f"## {hook}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(def .*?)\n```", section, flags=re.S)
    assert match, f"docs/hooks.md shows no signature for {hook}"
    assert one_line(match.group(1)) == spec_signature(hook)


def one_line(signature: str) -> str:
    """A signature written over several lines (one argument a line, trailing comma) as one."""
    text = " ".join(signature.split())
    return re.sub(r",\s*\)", ")", re.sub(r"\(\s+", "(", text))


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test_named_after_it(hook: str) -> None:
    assert f"test_hook_{hook}" in TEST_FUNCTIONS, f"no test is named test_hook_{hook}"


def test_the_signature_check_reads_the_spec() -> None:
    assert spec_signature("send_batch") == (
        "def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse"
    )
