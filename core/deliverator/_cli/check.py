"""``deliverator check --config FILE``: is the configuration valid, and do the credentials work?"""

from __future__ import annotations

import sys

import click

from deliverator._cli.errors import EXIT_FAILURES, EXIT_OK, config_errors, warn
from deliverator._redaction import redact_urls
from deliverator._session import http_client, load_checked_config, open_session


@click.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False), help="The TOML configuration file."
)
def command(config_path: str) -> None:
    """Validate the configuration, then ask the destination to verify its credentials.

    Exits 0 when both hold, 1 when the destination refuses the credentials or cannot be reached,
    2 when the configuration itself is wrong.
    """
    with config_errors():
        config = load_checked_config(config_path)
        session = open_session(config)
    for message in session.warnings:
        warn(message)
    destination = session.destination
    click.echo(f"configuration OK: destination {destination.spec.name!r}")
    result = destination.check_credentials(http_client(config))
    if result is None:
        click.echo(f"{destination.spec.name} has no credentials check; nothing more to verify")
        sys.exit(EXIT_OK)
    for message in result.warnings:
        warn(message)
    # The message may quote the destination's answer, and a server may echo our credentials.
    click.echo(("credentials OK: " if result.ok else "credentials FAILED: ") + redact_urls(result.message))
    sys.exit(EXIT_OK if result.ok else EXIT_FAILURES)
