"""``deliverator demo``: the whole loop, for real, against a destination's bundled emulator."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from deliverator.cli.errors import EXIT_OK, config_errors, fail, warn
from deliverator.cli.running import DeliveryFiles, deliver
from deliverator.config import parse_config
from deliverator.delivery import Summary
from deliverator.destination import new_plugin_manager, register_checked
from deliverator.discovery import DESTINATIONS_GROUP, InstalledPlugin, installed
from deliverator.errors import PluginError

DEFAULT_DEMO = "customerio"
"""The destination whose demo plain ``deliverator demo`` runs, when it is installed."""


def _demo_plugin(name: str | None) -> InstalledPlugin | None:
    """The destination to demo: ``name``, else Customer.io, else the first installed one with
    a demo (sorted by name)."""
    plugins = installed(DESTINATIONS_GROUP)
    if name is not None:
        chosen = [plugin for plugin in plugins if plugin.name == name]
        if not chosen:
            known = ", ".join(plugin.name for plugin in plugins) or "none"
            fail(f"no destination named {name!r} is installed (installed: {known})")
        plugins = chosen
    else:
        plugins = sorted(plugins, key=lambda plugin: plugin.name != DEFAULT_DEMO)
    for plugin in plugins:
        try:
            module = plugin.load()
        except PluginError as exc:
            warn(str(exc))
            continue
        if hasattr(module, "demo_environment"):
            return plugin
    if name is not None:
        fail(f"destination {name!r} offers no demo")
    return None


@click.command()
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the outcome and dead-letter files (default: a new temporary folder).",
)
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option(
    "--destination",
    "destination",
    default=None,
    metavar="NAME",
    help=f"Which installed destination's demo to run (default: {DEFAULT_DEMO}).",
)
def command(output: str | None, no_progress: bool, destination: str | None) -> None:
    """Start a destination's emulator on a free loopback port, deliver its bundled sample stream
    (with some invalid events), and print what happened to every event."""
    plugin = _demo_plugin(destination)
    if plugin is None:
        fail(
            "no destination with a demo is installed: install one (e.g. pip install -e plugins/customerio) "
            "and run 'deliverator demo' again"
        )
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
    table.add_column("error type")
    table.add_column("where", justify="left")
    table.add_column("events", justify="right")
    table.add_row("delivered", "", "accepted by the destination", str(summary.delivered))
    for errortype, count in sorted(summary.failures_by_type.items()):
        unsent = summary.unsent_failures_by_type[errortype]
        if unsent:
            table.add_row("failed", errortype, "refused before sending", str(unsent))
        if count - unsent:
            table.add_row("failed", errortype, "refused by the destination", str(count - unsent))
    if summary.ignored:
        table.add_row("ignored", "", "", str(summary.ignored))
    table.add_row("[bold]total", "", "", f"[bold]{summary.total}")
    console.print(table)
    console.print(summary.line())
    console.print(f"requests sent: {summary.requests}; the emulator holds {received} distinct delivered items")
    console.print(f"outcomes: {files.results}")
    console.print(f"dead letters: {files.dead_letters}")
