"""The emulator's command line: ``python -m deliverator_amplitude.emulator`` and
``deliverator amplitude-emulator`` (the same click command, registered by the plugin).

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

from deliverator_amplitude.emulator.faults import Faults
from deliverator_amplitude.emulator.limits import THROTTLE_EPS
from deliverator_amplitude.emulator.server import Emulator

_RATIO = click.FloatRange(0.0, 1.0)


@click.command(name="amplitude-emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9001, show_default=True, help="0 picks a free port.")
@click.option("--api-key", default=None, help="API key clients must send (default: a random one, printed).")
@click.option("--latency", type=click.FloatRange(0.0), default=0.0, help="Seconds every request waits first.")
@click.option("--error-ratio", type=_RATIO, default=0.0, help="Share of requests answered with --error-status.")
@click.option(
    "--error-status", type=click.IntRange(500, 599), default=503, show_default=True, help="The 5xx to answer."
)
@click.option(
    "--accept-then-error-ratio",
    type=_RATIO,
    default=0.0,
    help="Share of requests ingested and then answered 500 (tests insert_id deduplication).",
)
@click.option(
    "--user-eps",
    type=click.IntRange(0),
    default=0,
    help=f"Throttle users and devices above this many events per second (0: off; Amplitude's is {THROTTLE_EPS}).",
)
@click.option(
    "--throttle-window",
    type=click.FloatRange(0.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Seconds the per-user rate is averaged over.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the random faults.")
def command(
    host: str,
    port: int,
    api_key: str | None,
    latency: float,
    error_ratio: float,
    error_status: int,
    accept_then_error_ratio: float,
    user_eps: int,
    throttle_window: float,
    seed: int,
) -> None:
    """Run an Amplitude HTTP V2 API emulator (POST /2/httpapi) until Ctrl-C."""
    faults = Faults(
        latency_s=latency,
        error_ratio=error_ratio,
        error_status=error_status,
        accept_then_error_ratio=accept_then_error_ratio,
        user_events_per_second=user_eps,
        throttle_window_s=throttle_window,
        seed=seed,
    )
    chosen_key = api_key or secrets.token_hex(16)
    try:
        emulator = Emulator(api_key=chosen_key, host=host, port=port, faults=faults)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"Amplitude emulator listening on {emulator.url} (POST /2/httpapi)")
    click.echo(f"  faults: {faults.describe()}")
    click.echo("  use in [destination.settings]:")
    if api_key is None:
        # A throwaway key made up just now for this local emulator: the user needs to see it.
        click.echo(f'    api_key = "{chosen_key}"')
    else:
        click.echo("    api_key = <the key you passed with --api-key>")
    click.echo(f'    endpoint = "{emulator.url}"')
    click.echo("Press Ctrl-C to stop.")
    _serve_until_stopped(emulator)
    click.echo(f"stopped: {emulator.stats().line()}")


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
    """Entry point of ``python -m deliverator_amplitude.emulator``."""
    command.main(prog_name="python -m deliverator_amplitude.emulator")
