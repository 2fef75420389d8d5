"""The emulator's command line: ``python -m deliverator_customerio.emulator`` and
``deliverator customerio-emulator`` (the same click command, registered by the plugin).

It prints the URL and the settings to use, serves until Ctrl-C or SIGTERM, then prints what it
received.
"""

from __future__ import annotations

import secrets
import signal
import threading
from types import FrameType
from typing import Any

import click

from deliverator_customerio.emulator.faults import Faults
from deliverator_customerio.emulator.server import Emulator

_RATIO = click.FloatRange(0.0, 1.0)
_SECONDS = click.FloatRange(0.0)
_COUNT = click.IntRange(0)


@click.command(name="customerio-emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9000, show_default=True, help="0 picks a free port.")
@click.option("--site-id", default=None, help="Site ID clients must send (default: a random one, printed).")
@click.option("--api-key", default=None, help="Track API key clients must send (default: a random one, printed).")
@click.option(
    "--region",
    type=click.Choice(["us", "eu"]),
    default="us",
    show_default=True,
    help="Region the account reports from GET /api/v1/accounts/region.",
)
@click.option("--environment-id", type=int, default=1, show_default=True, help="Workspace id the region check reports.")
@click.option("--fast", is_flag=True, help="Benchmark mode: no per-item validation or bookkeeping, only counts.")
@click.option("--latency", type=_SECONDS, default=0.0, help="Seconds every write request waits before answering.")
@click.option(
    "--drop-ratio", type=_RATIO, default=0.0, help="Share of write requests whose connection is closed unanswered."
)
@click.option("--rate-limit-every", type=_COUNT, default=0, help="Answer every Nth write request 429.")
@click.option("--rate-limit-per-second", type=_COUNT, default=0, help="Answer 429 beyond this many requests a second.")
@click.option(
    "--retry-after", type=_COUNT, default=1, show_default=True, help="Retry-After seconds for --rate-limit-every."
)
@click.option("--error-ratio", type=_RATIO, default=0.0, help="Share of write requests answered with --error-status.")
@click.option(
    "--error-status", type=click.IntRange(500, 599), default=503, show_default=True, help="The 5xx to answer."
)
@click.option("--redirect-to", default=None, help="Answer write requests 307 to this base URL (a wrong-region host).")
@click.option(
    "--lose-answer-ratio",
    type=_RATIO,
    default=0.0,
    help="Share of write requests accepted and then closed unanswered (tests deduplication).",
)
@click.option("--string-bodies", is_flag=True, help="Send 200/207 bodies as a JSON string holding the JSON.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the random faults.")
def command(
    host: str,
    port: int,
    site_id: str | None,
    api_key: str | None,
    region: str,
    environment_id: int,
    fast: bool,
    latency: float,
    drop_ratio: float,
    rate_limit_every: int,
    rate_limit_per_second: int,
    retry_after: int,
    error_ratio: float,
    error_status: int,
    redirect_to: str | None,
    lose_answer_ratio: float,
    string_bodies: bool,
    seed: int,
) -> None:
    """Run a Customer.io Track API emulator (batch, entity and region endpoints) until Ctrl-C."""
    try:
        faults = Faults(
            latency_s=latency,
            drop_ratio=drop_ratio,
            rate_limit_every=rate_limit_every,
            rate_limit_per_second=rate_limit_per_second,
            retry_after_s=retry_after,
            error_ratio=error_ratio,
            error_status=error_status,
            redirect_to=redirect_to,
            lose_answer_ratio=lose_answer_ratio,
            string_bodies=string_bodies,
            seed=seed,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    chosen_site = site_id or f"emulator-{secrets.token_hex(4)}"
    chosen_key = api_key or secrets.token_urlsafe(18)
    try:
        emulator = Emulator(
            site_id=chosen_site,
            api_key=chosen_key,
            host=host,
            port=port,
            region=region,
            environment_id=environment_id,
            faults=faults,
            fast=fast,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _announce(emulator, chosen_site, chosen_key if api_key is None else None, faults, fast)
    _serve_until_stopped(emulator)
    click.echo(f"stopped: {emulator.stats().line()}")


def _announce(emulator: Emulator, site_id: str, generated_key: str | None, faults: Faults, fast: bool) -> None:
    click.echo(f"Customer.io emulator listening on {emulator.url}")
    click.echo(f"  mode: {'fast (counts only)' if fast else 'validating'}; faults: {faults.describe()}")
    click.echo("  use in [destination.settings]:")
    click.echo(f'    site_id = "{site_id}"')
    if generated_key is not None:
        # A throwaway key made up just now for this local emulator: the user needs to see it.
        click.echo(f'    api_key = "{generated_key}"')
    else:
        click.echo("    api_key = <the key you passed with --api-key>")
    click.echo(f'    endpoint = "{emulator.url}"')
    click.echo("Press Ctrl-C to stop.")


def _serve_until_stopped(emulator: Emulator) -> None:
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: Any = None
    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: only Ctrl-C / the caller can stop us
        previous = None
    emulator.start()
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def main() -> None:
    """Entry point of ``python -m deliverator_customerio.emulator``."""
    command.main(prog_name="python -m deliverator_customerio.emulator")
