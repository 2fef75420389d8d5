"""``deliverator destinations [--json]``: what is installed, without importing any of it."""

from __future__ import annotations

import click
import orjson

from deliverator._discovery import DESTINATIONS_GROUP, EXTENSIONS_GROUP, installed


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def command(as_json: bool) -> None:
    """List installed destinations and extensions (plugins are not imported)."""
    rows = [
        {"name": p.name, "kind": kind, "distribution": p.distribution, "version": p.version, "module": p.target}
        for kind, group in (("destination", DESTINATIONS_GROUP), ("extension", EXTENSIONS_GROUP))
        for p in installed(group)
    ]
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        click.echo("No destinations installed. Install a destination plugin (a deliverator-NAME package).")
        return
    headers = ("name", "kind", "distribution", "version", "module")
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(str(row[h]).ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
