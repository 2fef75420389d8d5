"""The ``deliverator`` command line.

Commands live in their own modules and load only when invoked, so ``deliverator --help``
and ``deliverator destinations`` answer quickly. Destination plugins may add commands through
the ``register_commands`` hook; they are looked up only when a command name is not the core's.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from deliverator import __version__

_COMMANDS: dict[str, tuple[str, str]] = {
    "deliver": ("deliverator._cli.deliver", "Deliver a JSONL stream of events to the configured destination."),
    "destinations": ("deliverator._cli.destinations", "List installed destinations (without importing them)."),
    "check": ("deliverator._cli.check", "Check the configuration and the destination's credentials."),
    "demo": ("deliverator._cli.demo", "Deliver a sample stream to a bundled emulator and show the outcomes."),
    "new-destination": ("deliverator._cli.new_destination", "Write a new destination plugin package, tests included."),
    "install": ("deliverator._cli.install", "Install packages (destinations) into deliverator's own environment."),
    "uninstall": ("deliverator._cli.uninstall", "Uninstall packages from deliverator's own environment."),
    "report": ("deliverator._cli.report", "Summarise a results file: outcomes, errors with samples, attempts."),
    "enqueue": ("deliverator._queue.commands.enqueue", "Queue mode: add each record of a JSONL file to a stream."),
    "worker": ("deliverator._queue.commands.worker", "Queue mode: deliver a stream's events as one of N workers."),
    "outcomes": ("deliverator._queue.commands.outcomes", "Queue mode: print outcome or dead-letter records (JSONL)."),
}


class LazyGroup(click.Group):
    """A group whose core commands import on use, and whose plugin commands come from the
    ``register_commands`` hook only when asked for by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is not None:
            command = importlib.import_module(entry[0]).command
            assert isinstance(command, click.Command)
            return command
        from deliverator._cli.plugin_commands import find_plugin_command

        return find_plugin_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        with formatter.section("Plugin commands"):
            formatter.write_text(
                "Installed destinations may add commands of their own; 'deliverator destinations' lists what is "
                "installed, and 'deliverator NAME --help' describes a plugin's command."
            )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deliverator")
def cli() -> None:
    """Deliver streams of Segment-spec events to SaaS tools, in batches, with a truthful
    outcome for every event."""


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="deliverator")
