"""Commands contributed by destination plugins through the ``register_commands`` hook."""

from __future__ import annotations

import click

from deliverator._destination import new_plugin_manager, register_checked
from deliverator._discovery import DESTINATIONS_GROUP, installed
from deliverator._errors import PluginError


def find_plugin_command(name: str) -> click.Command | None:
    """Load installed destinations and return the command called ``name``, if one adds it."""
    group = click.Group()
    pm = new_plugin_manager()
    for plugin in installed(DESTINATIONS_GROUP):
        try:
            register_checked(pm, plugin.load(), f"{plugin.distribution}:{plugin.name}")
        except PluginError as exc:
            click.echo(f"deliverator: warning: {exc}", err=True)
    pm.hook.register_commands(cli=group)
    return group.commands.get(name)
