"""``deliverator uninstall PACKAGE...``: pip-uninstall from deliverator's own environment, then
list the destinations left."""

from __future__ import annotations

import click

from deliverator.cli.install import run_pip


@click.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def command(packages: tuple[str, ...], yes: bool) -> None:
    """Uninstall PACKAGES from deliverator's environment, then list the installed destinations."""
    run_pip(["uninstall", "--disable-pip-version-check", *(["--yes"] if yes else []), *packages])
