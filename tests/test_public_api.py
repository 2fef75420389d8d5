"""The public API is the whole truth: every plugin in this repository (its tests included) and
the docs' example import only ``deliverator`` (names in ``__all__``) and ``deliverator.testing``
(names in its ``__all__``), and every public name exists and says what it is."""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import deliverator
import deliverator.testing
from tests.support import REPO

PLUGIN_DIRS = sorted([*(p for p in (REPO / "plugins").iterdir() if p.is_dir()), REPO / "docs" / "example-plugin"])
ALLOWED_MODULES = {"deliverator": set(deliverator.__all__), "deliverator.testing": set(deliverator.testing.__all__)}


def private_uses(source: str, filename: str = "<source>") -> Iterator[str]:
    """Each use of ``deliverator`` outside its public API in ``source``, described."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "deliverator" and alias.name not in ALLOWED_MODULES:
                    yield f"line {node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "deliverator":
            public = ALLOWED_MODULES.get(node.module)
            if public is None:
                yield f"line {node.lineno}: from {node.module} import ..."
                continue
            for alias in node.names:
                if alias.name not in public and not (node.module == "deliverator" and alias.name == "testing"):
                    yield f"line {node.lineno}: from {node.module} import {alias.name} (not in its __all__)"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "deliverator"
            and node.attr not in ALLOWED_MODULES["deliverator"]
            and node.attr != "testing"
        ):
            yield f"line {node.lineno}: deliverator.{node.attr}"


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if not {"build", ".venv"} & set(p.parts))


@pytest.mark.parametrize("folder", PLUGIN_DIRS, ids=lambda p: p.name)
def test_plugins_import_only_the_public_api(folder: Path) -> None:
    found = [
        f"{path.relative_to(REPO)} {use}"
        for path in python_files(folder)
        for use in private_uses(path.read_text(), str(path))
    ]
    assert not found, "plugins may import only deliverator and deliverator.testing:\n" + "\n".join(found)


def test_every_plugin_folder_has_python_to_check() -> None:
    assert all(python_files(folder) for folder in PLUGIN_DIRS)
    assert {"customerio", "example-plugin"} <= {folder.name for folder in PLUGIN_DIRS}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from deliverator.destination import Destination", "from deliverator.destination import ..."),
        ("import deliverator.http", "import deliverator.http"),
        ("from deliverator import structure_config", "structure_config (not in its __all__)"),
        ("from deliverator.testing import LoopbackServer as L, secret_thing", "secret_thing (not in its __all__)"),
        ("import deliverator\nx = deliverator.convert", "deliverator.convert"),
    ],
)
def test_the_check_catches_each_kind_of_private_use(source: str, expected: str) -> None:
    uses = list(private_uses(source))
    assert len(uses) == 1 and expected in uses[0]


def test_public_uses_pass_the_check() -> None:
    source = (
        "import deliverator\nimport deliverator.testing\nfrom deliverator import hookimpl, Secret, testing\n"
        "from deliverator.testing import deliver_events\nprint(deliverator.__version__, deliverator.testing)\n"
    )
    assert list(private_uses(source)) == []


@pytest.mark.parametrize("module", [deliverator, deliverator.testing], ids=lambda m: m.__name__)
def test_every_public_name_exists_and_has_a_docstring(module: types.ModuleType) -> None:
    names: list[str] = module.__all__
    for name in names:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_test_only_names_left_the_public_api_for_deliverator_testing() -> None:
    for name in ("FakeClock", "PayloadBatch"):
        assert name not in deliverator.__all__
        assert name in deliverator.testing.__all__
    with pytest.warns(DeprecationWarning, match="deliverator.testing"):
        assert deliverator.FakeClock is deliverator.testing.FakeClock


@pytest.mark.parametrize(
    "name", ["error_text", "parse_body", "is_retryable_status", "parse_timestamp", "HttpSettings", "json_kind"]
)
def test_what_plugins_need_is_public(name: str) -> None:
    assert name in deliverator.__all__
