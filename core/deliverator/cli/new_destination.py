"""``deliverator new-destination NAME [--dir DIR]``: start a destination plugin from a package
that already passes its tests, ``ruff`` and ``mypy --strict``."""

from __future__ import annotations

from pathlib import Path

import click

from deliverator.cli.errors import config_errors


@click.command()
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which the package folder deliverator-NAME is created.",
)
def command(name: str, parent: Path) -> None:
    """Write a complete destination package deliverator-NAME: pyproject with the entry point,
    a plugin module with every hook stubbed and documented, tests running the conformance kit,
    and a README."""
    from deliverator.scaffold import write_destination

    with config_errors():
        root = write_destination(name, parent)
    click.echo(f"wrote {root}")
    click.echo(f"next: pip install -e '{root}[test]' && cd {root} && pytest && ruff check . && mypy")
