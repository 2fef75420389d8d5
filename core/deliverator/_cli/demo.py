"""``deliverator demo [--destination NAME]``: the whole loop, for real, against a destination's
bundled emulator.

The core favours no plugin: without ``--destination`` the demo runs the first installed
destination (by name) that offers a ``demo_environment``; ``make demo`` names the documented
default (see the Makefile and the README).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from deliverator._cli.errors import EXIT_OK, config_errors, fail, warn
from deliverator._cli.running import DeliveryFiles, deliver
from deliverator._config import parse_config
from deliverator._delivery import Summary
from deliverator._destination import new_plugin_manager, register_checked
from deliverator._discovery import DESTINATIONS_GROUP, InstalledPlugin, installed
from deliverator._errors import PluginError


def demo_destinations() -> list[InstalledPlugin]:
    """Installed destinations that offer a demo, by name (a plugin that fails to import is
    reported as a warning and skipped)."""
    found = []
    for plugin in installed(DESTINATIONS_GROUP):
        try:
            module = plugin.load()
        except PluginError as exc:
            warn(str(exc))
            continue
        if hasattr(module, "demo_environment"):
            found.append(plugin)
    return found


def _choose(name: str | None) -> InstalledPlugin:
    offering = demo_destinations()
    names = ", ".join(p.name for p in offering) or "none"
    if name is None:
        if not offering:
            fail(
                "no installed destination offers a demo: install a destination plugin that has one "
                "('make demo' in the deliverator repository installs the bundled plugins), then run "
                "'deliverator demo' again"
            )
        return offering[0]
    for plugin in offering:
        if plugin.name == name:
            return plugin
    installed_names = {p.name for p in installed(DESTINATIONS_GROUP)}
    if name in installed_names:
        fail(f"destination {name!r} offers no demo (destinations with a demo: {names})")
    fail(f"no destination named {name!r} is installed (destinations with a demo: {names})")


@click.command()
@click.option(
    "--destination",
    "destination",
    default=None,
    metavar="NAME",
    help="The destination whose demo to run (default: the first installed one, by name, that has a demo).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the outcome and dead-letter files (default: a new temporary folder).",
)
@click.option("--no-progress", is_flag=True, help="Do not show progress.")
def command(destination: str | None, output: str | None, no_progress: bool) -> None:
    """Start a destination's emulator on a free loopback port, deliver its bundled sample stream
    (with some invalid events), and print what happened to every event."""
    plugin = _choose(destination)
    pm = new_plugin_manager()
    with config_errors():
        register_checked(pm, plugin.load(), f"{plugin.distribution}:{plugin.name}")
    environment = pm.hook.demo_environment()
    if environment is None:
        fail(f"destination {plugin.name!r} offers no demo")
    folder = Path(output) if output else Path(tempfile.mkdtemp(prefix="deliverator-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    with environment as setup:
        click.echo(setup.description)
        config_table = {
            "destination": {"name": plugin.name, "settings": setup.settings},
            "delivery": {"concurrency": 4, "linger_s": 0.2},
            "error_handler": {
                "max_retries": 5,
                "backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 0.2}],
            },
        }
        files = DeliveryFiles(
            input=setup.events_path,
            results=folder / "demo.results.jsonl",
            dead_letters=folder / "demo.dead-letter.jsonl",
        )
        with config_errors():
            summary = deliver(parse_config(config_table, {}), files, show_progress=not no_progress, label="demo")
        received = setup.received()
    _print_table(summary, received, files)
    sys.exit(EXIT_OK)


def _print_table(summary: Summary, received: int, files: DeliveryFiles) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="What happened to every event")
    table.add_column("outcome")
    table.add_column("error type or reason")
    table.add_column("where", justify="left")
    table.add_column("events", justify="right")
    table.add_row("delivered", "", "accepted by the destination", str(summary.delivered))
    for errortype, count in sorted(summary.failures_by_type.items()):
        unsent = summary.unsent_failures_by_type[errortype]
        outcome = "cancelled" if errortype == "CANCELLED" else "failed"
        if unsent:
            table.add_row(outcome, errortype, "refused before sending", str(unsent))
        if count - unsent:
            table.add_row(outcome, errortype, "refused by the destination", str(count - unsent))
    for reason, count in summary.ignored_by_reason.most_common():
        table.add_row("ignored", reason, "", str(count))
    if summary.released:
        table.add_row("not finished", "", "left for a resumed run", str(summary.released))
    table.add_row("[bold]total", "", "", f"[bold]{summary.total + summary.released}")
    console.print(table)
    console.print(f"the emulator holds {received} distinct delivered items", highlight=False)
    for line in summary.lines([("outcomes", files.results), ("dead letters", files.dead_letters)]):
        console.print(line, highlight=False, soft_wrap=True)
