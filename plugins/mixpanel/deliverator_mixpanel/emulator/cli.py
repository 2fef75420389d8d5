"""The emulator's command line: ``python -m deliverator_mixpanel.emulator`` and
``deliverator mixpanel-emulator`` (the same click command, registered by the plugin).

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

from deliverator_mixpanel.emulator.faults import Faults
from deliverator_mixpanel.emulator.limits import MAX_REQUEST_BYTES
from deliverator_mixpanel.emulator.project import Project
from deliverator_mixpanel.emulator.server import Emulator

_RATIO = click.FloatRange(0.0, 1.0)
_SECONDS = click.FloatRange(0.0)
_COUNT = click.IntRange(0)


@click.command(name="mixpanel-emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9100, show_default=True, help="0 picks a free port.")
@click.option("--project-id", default="1", show_default=True, help="The project's id (service accounts send it).")
@click.option("--api-secret", default=None, help="The project secret clients send (default: a random one, printed).")
@click.option("--project-token", default=None, help="The project token /engage updates carry (default: random).")
@click.option(
    "--max-request-bytes",
    type=click.IntRange(1),
    default=MAX_REQUEST_BYTES,
    show_default=True,
    help="Answer 413 above this many bytes (older docs say 2 MB).",
)
@click.option("--latency", type=_SECONDS, default=0.0, help="Seconds every request waits before answering.")
@click.option("--rate-limit-every", type=_COUNT, default=0, help="Answer every Nth request 429.")
@click.option("--project-events-per-minute", type=_COUNT, default=0, help="The project's rate limit (events a minute).")
@click.option("--error-ratio", type=_RATIO, default=0.0, help="Share of requests answered with --error-status.")
@click.option("--error-status", type=click.IntRange(500, 599), default=503, show_default=True, help="The 5xx.")
@click.option("--lose-answer-ratio", type=_RATIO, default=0.0, help="Share of requests imported, then unanswered.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the random faults.")
def command(
    host: str,
    port: int,
    project_id: str,
    api_secret: str | None,
    project_token: str | None,
    max_request_bytes: int,
    latency: float,
    rate_limit_every: int,
    project_events_per_minute: int,
    error_ratio: float,
    error_status: int,
    lose_answer_ratio: float,
    seed: int,
) -> None:
    """Run a Mixpanel ingestion emulator (/import and /engage) until Ctrl-C."""
    faults = Faults(
        latency_s=latency,
        rate_limit_every=rate_limit_every,
        project_events_per_window=project_events_per_minute,
        rate_window_s=60.0,
        error_ratio=error_ratio,
        error_status=error_status,
        lose_answer_ratio=lose_answer_ratio,
        seed=seed,
    )
    project = Project(
        project_id=project_id,
        api_secret=api_secret or secrets.token_hex(16),
        token=project_token or secrets.token_hex(16),
        service_account_secret=secrets.token_urlsafe(18),
    )
    try:
        emulator = Emulator(project=project, host=host, port=port, faults=faults, max_request_bytes=max_request_bytes)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _announce(emulator, api_secret is None, faults)
    _serve_until_stopped(emulator)
    click.echo(f"stopped: {emulator.stats().line()}")


def _announce(emulator: Emulator, generated_secret: bool, faults: Faults) -> None:
    project = emulator.project
    click.echo(f"Mixpanel emulator listening on {emulator.url}")
    click.echo(f"  faults: {faults.describe()}")
    click.echo("  use in [destination.settings]:")
    if generated_secret:
        # A throwaway secret made up just now for this local emulator: the user needs to see it.
        click.echo(f'    api_secret = "{project.api_secret}"')
    else:
        click.echo("    api_secret = <the secret you passed with --api-secret>")
    click.echo(f'    project_token = "{project.token}"')
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
    """Entry point of ``python -m deliverator_mixpanel.emulator``."""
    command.main(prog_name="python -m deliverator_mixpanel.emulator")
