"""``deliverator new-destination``: the package it writes, installed with ``pip install -e`` into
a fresh virtual environment, passes its own tests (the conformance kit included), ``ruff`` and
``mypy --strict`` as generated. No network: the venv sees this environment's packages through
a ``.pth`` file and pip builds without isolation, from no index."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support import cli_env, run_cli
from tests.test_public_api import private_uses


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def fresh_venv(where: Path) -> Path:
    """A new venv without pip whose interpreter also sees this environment's site-packages."""
    venv = where / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], where)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], where)
    (Path(purelib.stdout.strip()) / "_parent_site.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n"
    )
    return python


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DELIVERATOR_", "PYTHON", "PYTEST", "MYPY"))}


def test_new_destination_package_passes_its_tests_ruff_and_mypy_strict_in_a_fresh_venv(tmp_path: Path) -> None:
    made = run_cli(["new-destination", "acme-crm", "--dir", str(tmp_path)], cli_env())
    assert made.returncode == 0, made.stderr
    package = tmp_path / "deliverator-acme-crm"
    assert package.is_dir() and str(package) in made.stdout
    python = fresh_venv(tmp_path)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    env = clean_env()
    installed = run(
        [*pip, "install", "-q", "--no-deps", "--no-index", "--no-build-isolation", "-e", str(package)], tmp_path, env
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    listed = run([str(python), "-m", "deliverator", "destinations", "--json"], tmp_path, env)
    assert '"name": "acme-crm"' in listed.stdout, listed.stderr

    tests = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], package, env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "test_conformance.py" in run([str(python), "-m", "pytest", "--co", "-q"], package, env).stdout

    lint = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], package, env)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    assert "[tool.mypy]\npython_version = \"3.11\"\nstrict = true\n" in (package / "pyproject.toml").read_text()
    types = run([str(python), "-m", "mypy"], package, env)
    assert types.returncode == 0, types.stdout + types.stderr


def test_the_generated_plugin_uses_only_the_public_api(tmp_path: Path) -> None:
    from deliverator.scaffold import write_destination

    root = write_destination("shop", tmp_path)
    uses = [use for path in root.rglob("*.py") for use in private_uses(path.read_text(), str(path))]
    assert uses == []
    assert (root / "deliverator_shop" / "py.typed").exists()
    assert 'shop = "deliverator_shop.plugin"' in (root / "pyproject.toml").read_text()


@pytest.mark.parametrize("name", ["Acme", "1acme", "acme crm", "acme--crm", "", "acme/../x"])
def test_a_name_that_cannot_be_a_package_exits_2(tmp_path: Path, name: str) -> None:
    proc = run_cli(["new-destination", name, "--dir", str(tmp_path)], cli_env())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not a destination name" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_package_folder_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "deliverator-acme"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    proc = run_cli(["new-destination", "acme", "--dir", str(tmp_path)], cli_env())
    assert proc.returncode == 2
    assert "already exists" in proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["mine.txt"]


def test_install_and_uninstall_a_local_package_into_deliverators_environment(tmp_path: Path) -> None:
    from deliverator.scaffold import write_destination

    package = write_destination("kitdest", tmp_path)
    python = fresh_venv(tmp_path)
    env = clean_env()
    offline = ["--no-deps", "--no-index", "--no-build-isolation"]
    installed = run([str(python), "-m", "deliverator", "install", *offline, str(package)], tmp_path, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "kitdest" in installed.stdout and "deliverator-kitdest" in installed.stdout  # the listing after pip
    venv_site = run([str(python), "-c", "import deliverator_kitdest; print(deliverator_kitdest.__file__)"], tmp_path)
    assert str(tmp_path / "venv") in venv_site.stdout  # installed into the environment deliverator runs in

    removed = run([str(python), "-m", "deliverator", "uninstall", "--yes", "deliverator-kitdest"], tmp_path, env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "kitdest" not in run([str(python), "-m", "deliverator", "destinations"], tmp_path, env).stdout


def test_a_failing_pip_passes_its_error_and_exit_code_through(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path)
    missing = tmp_path / "no-such-package"
    proc = run([str(python), "-m", "deliverator", "install", "--no-index", str(missing)], tmp_path, clean_env())
    assert proc.returncode not in (0, 2)
    assert "no-such-package" in proc.stderr  # pip's own message
    assert f"pip install failed (exit {proc.returncode})" in proc.stderr
