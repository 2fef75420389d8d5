"""The plugin's additions to the command line: the ``amplitude-emulator`` command and the
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

    from deliverator_amplitude.emulator import Faults

EMULATOR_COMMAND: Final = "amplitude-emulator"


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``deliverator amplitude-emulator`` (the same command as
    ``python -m deliverator_amplitude.emulator``)."""
    from deliverator_amplitude.emulator.cli import command

    cli.add_command(command, name=EMULATOR_COMMAND)


@hookimpl
def demo_environment() -> AbstractContextManager[DemoSetup]:
    """The Amplitude demo: the emulator on a free loopback port, a throwaway API key and the
    sample stream."""
    return demo_setup()


def demo_faults() -> Faults:
    """The demo's bad day: 10 % of requests fail with 503, and 5 % are ingested and then
    answered 500, so retries and ``insert_id`` deduplication both show."""
    from deliverator_amplitude.emulator import Faults

    return Faults(error_ratio=0.1, accept_then_error_ratio=0.05, seed=7)


@contextmanager
def demo_setup(faults: Faults | None = None) -> Iterator[DemoSetup]:
    """Start an emulator with a random key (default faults: :func:`demo_faults`), write the
    sample stream to a temporary file, yield what ``deliverator demo`` needs, and clean up."""
    from deliverator_amplitude import demo
    from deliverator_amplitude.emulator import Emulator

    api_key = secrets.token_hex(16)
    chosen = demo_faults() if faults is None else faults
    with (
        tempfile.TemporaryDirectory(prefix="deliverator-amplitude-demo-") as folder,
        Emulator(api_key=api_key, faults=chosen) as emulator,
    ):
        events_path = demo.write_sample(Path(folder) / "amplitude-sample.jsonl")
        yield DemoSetup(
            settings={"api_key": api_key, "region": "us", "endpoint": emulator.url},
            events_path=events_path,
            description=(
                f"Amplitude emulator on {emulator.url}: HTTP V2 API with its limits and event checks, injected "
                f"faults: {chosen.describe()}. Delivering a sample stream of {demo.TOTAL_EVENTS} events: "
                f"{demo.GROUPS_AND_ALIASES} group/alias calls are ignored, {demo.SHORT_IDS + demo.BAD_TIMES} are "
                f"refused before sending and {demo.PLACEHOLDER_IDS} by the API's 400 (the rest of those batches "
                "is sent again)."
            ),
            received=emulator.kept_count,
        )
