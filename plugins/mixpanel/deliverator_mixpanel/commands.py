"""The plugin's additions to the command line: the ``mixpanel-emulator`` command and the
self-contained environment of ``deliverator demo``.

Both import the emulator only when used, so ordinary runs never load an HTTP server.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from deliverator import DemoSetup, hookimpl

if TYPE_CHECKING:
    import click

    from deliverator_mixpanel.emulator import Faults

EMULATOR_COMMAND: Final = "mixpanel-emulator"


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``deliverator mixpanel-emulator`` (the same command as
    ``python -m deliverator_mixpanel.emulator``)."""
    from deliverator_mixpanel.emulator.cli import command

    cli.add_command(command, name=EMULATOR_COMMAND)


@hookimpl
def demo_environment() -> AbstractContextManager[DemoSetup]:
    """The Mixpanel demo: the emulator on a free loopback port, throwaway credentials and a
    generated sample stream."""
    return demo_setup()


def demo_faults() -> Faults:
    """The demo's bad day: every 4th request is rate limited, so the retry path shows too."""
    from deliverator_mixpanel.emulator import Faults

    return Faults(rate_limit_every=4)


@contextmanager
def demo_setup(faults: Faults | None = None) -> Iterator[DemoSetup]:
    """Start an emulator with random credentials (default faults: :func:`demo_faults`), yield
    what ``deliverator demo`` needs, and stop the emulator on exit."""
    from deliverator_mixpanel.emulator import Emulator, Project
    from deliverator_mixpanel.sample import TOTAL_EVENTS, write_sample

    project = Project(api_secret=secrets.token_hex(16), token=secrets.token_hex(16))
    chosen = demo_faults() if faults is None else faults
    with (
        tempfile.TemporaryDirectory(prefix="deliverator-mixpanel-demo-") as folder,
        Emulator(project=project, faults=chosen) as emulator,
    ):
        yield DemoSetup(
            settings={
                "api_secret": project.api_secret,
                "project_token": project.token,
                "region": "us",
                "endpoint": emulator.url,
                "profiles": True,
            },
            events_path=write_sample(Path(folder) / "mixpanel-sample.jsonl"),
            description=(
                f"Mixpanel emulator on {emulator.url}: /import?strict=1 and /engage with Mixpanel's limits and "
                f"per-event validation, injected faults: {chosen.describe()}. Delivering a sample stream of "
                f"{TOTAL_EVENTS} events; group and alias calls are ignored, and a few events are invalid on "
                "purpose (some refused before sending, some in Mixpanel's failed_records)."
            ),
            received=lambda: emulator.imported_count() + emulator.stats().profile_updates,
        )
