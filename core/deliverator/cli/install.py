"""``deliverator install PACKAGE...``: pip-install destinations into deliverator's own
environment (``sys.executable -m pip``, as ``llm install`` does), then list what is installed.

pip's own output and errors pass through unchanged; when pip fails, its exit code is ours
(never 0), so a script sees the failure.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import click


def run_pip(arguments: Sequence[str]) -> None:
    """Run pip in this interpreter's environment with ``arguments``; exit with pip's code when
    it fails, else list the destinations now installed."""
    completed = subprocess.run([sys.executable, "-m", "pip", *arguments], check=False)
    if completed.returncode != 0:
        click.echo(f"deliverator: error: pip {arguments[0]} failed (exit {completed.returncode})", err=True)
        sys.exit(completed.returncode)
    from deliverator.cli.destinations import command as destinations

    click.echo("")
    destinations.main(args=[], prog_name="deliverator destinations", standalone_mode=False)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("packages", nargs=-1, required=True)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the packages to the newest version.")
@click.option("-e", "--editable", "editable", multiple=True, help="Install a local project in editable mode.")
def command(packages: tuple[str, ...], upgrade: bool, editable: tuple[str, ...]) -> None:
    """Install PACKAGES (names on an index, local paths, wheels) into deliverator's environment,
    then list the installed destinations."""
    arguments = ["install", "--disable-pip-version-check"]
    if upgrade:
        arguments.append("--upgrade")
    for path in editable:
        arguments += ["--editable", path]
    run_pip([*arguments, *packages])
