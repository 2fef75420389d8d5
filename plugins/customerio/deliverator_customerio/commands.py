"""The plugin's additions to the command line: the ``customerio-emulator`` command and the
self-contained environment of ``deliverator demo``.

Both import the emulator only when used, so ordinary runs never load an HTTP server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Final

from deliverator import DemoSetup, hookimpl

if TYPE_CHECKING:
    import click

    from deliverator_customerio.emulator import Faults

EMULATOR_COMMAND: Final = "customerio-emulator"


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``deliverator customerio-emulator`` (the same command as
    ``python -m deliverator_customerio.emulator``)."""
    from deliverator_customerio.emulator.cli import command

    cli.add_command(command, name=EMULATOR_COMMAND)


@hookimpl
def demo_environment() -> AbstractContextManager[DemoSetup]:
    """The Customer.io demo: the emulator on a free loopback port, throwaway credentials and
    the bundled sample stream."""
    return demo_setup()


def demo_faults() -> Faults:
    """The demo's bad day: every 5th request is rate limited (``Retry-After: 1``), so the
    retry path shows too; the answers themselves are honest."""
    from deliverator_customerio.emulator import Faults

    return Faults(rate_limit_every=5, retry_after_s=1)


@contextmanager
def demo_setup(faults: Faults | None = None) -> Iterator[DemoSetup]:
    """Start an emulator with random credentials (default faults: :func:`demo_faults`), yield
    what ``deliverator demo`` needs, and stop the emulator on exit."""
    from deliverator_customerio.demo import SAMPLE_FILE
    from deliverator_customerio.emulator import Emulator

    site_id = f"demo-{secrets.token_hex(4)}"
    api_key = secrets.token_urlsafe(24)
    chosen = demo_faults() if faults is None else faults
    with (
        as_file(files("deliverator_customerio").joinpath(SAMPLE_FILE)) as events_path,
        Emulator(site_id=site_id, api_key=api_key, faults=chosen) as emulator,
    ):
        yield DemoSetup(
            settings={"site_id": site_id, "api_key": api_key, "region": "us", "endpoint": emulator.url},
            events_path=events_path,
            description=(
                f"Customer.io emulator on {emulator.url}: Track API v2 with its limits and per-item validation, "
                f"injected faults: {chosen.describe()}. Delivering the bundled sample stream of 600 events; "
                "30 of them are invalid on purpose (15 refused before sending, 15 refused by the API's limits)."
            ),
            received=emulator.accepted_count,
        )
