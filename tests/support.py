"""Helpers for tests: installed distributions faked the way pluggy's own tests do (a real
``.dist-info`` on ``sys.path``), and CLI runs in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN_SRC = REPO / "docs" / "example-plugin"


def write_distribution(
    site: Path,
    name: str,
    entry_points: Mapping[str, Mapping[str, str]],
    modules: Mapping[str, str] | None = None,
    version: str = "0.1.0",
) -> None:
    """Make ``site`` hold an installed distribution: metadata, entry points and modules."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, points in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{point} = {target}" for point, target in points.items())
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module_name, source in (modules or {}).items():
        path = site / (module_name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def cli_env(*sites: Path, allow: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a CLI subprocess that sees the given sites (and the example's sources)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DELIVERATOR_", "PYTHON"))}
    env["PYTHONPATH"] = os.pathsep.join([*(str(s) for s in sites), str(EXAMPLE_PLUGIN_SRC)])
    if allow is not None:
        env["DELIVERATOR_LOAD_PLUGINS"] = allow
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], cwd: Path | None = None, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``deliverator ARGS`` in a real process."""
    return subprocess.run(
        [sys.executable, "-m", "deliverator", *args],
        env=dict(env),
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
