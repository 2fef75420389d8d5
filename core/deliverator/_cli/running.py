"""Running one delivery from the command line: signals, progress, the summary.

Shared by ``deliver`` and ``demo``; the run itself is the library's
(:class:`deliverator._pipeline.Pipeline`), so the command line and an embedding application
cannot drift apart.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType

import click

from deliverator._cli.errors import UsageProblem, warn
from deliverator._cli.progress import ProgressDisplay
from deliverator._config import Config
from deliverator._delivery import Summary
from deliverator._delivery.filerun import RunFiles, RunFilesError, check_distinct, default_files
from deliverator._gcpolicy import fewer_collections
from deliverator._pipeline import Pipeline

DeliveryFiles = RunFiles
"""Where a delivery reads from and writes to (the demo's name for it)."""

__all__ = ["DeliveryFiles", "check_distinct", "default_files", "deliver"]


@contextmanager
def _cancel_on_signals(pipeline: Pipeline, resumable: bool, quiet: bool = False) -> Iterator[None]:
    """First Ctrl-C or SIGTERM: stop gracefully. A second Ctrl-C stops at once. ``quiet``: the
    live progress says "stopping" itself (a line written from a signal handler would land in
    the middle of the display)."""
    then = "the same command resumes the rest" if resumable else "then recording every unfinished event as cancelled"

    def handler(signum: int, frame: FrameType | None) -> None:
        if not quiet:
            warn(f"stopping: finishing in-flight requests; {then}")
        pipeline.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def deliver(
    config: Config, files: RunFiles, show_progress: bool, label: str = "delivering", *, restart: bool = False
) -> Summary:
    """Deliver ``files.input`` as ``config`` says; returns the summary."""
    total_bytes = files.input.stat().st_size if files.input is not None else None
    with ExitStack() as stack:
        display = stack.enter_context(
            ProgressDisplay(show_progress, total_bytes, label, resumable=files.journal is not None)
        )
        pipeline = Pipeline(config, progress=display.update)
        for message in pipeline.warnings:
            warn(message)
        stack.enter_context(_cancel_on_signals(pipeline, files.journal is not None, quiet=display.live))
        stack.enter_context(fewer_collections())
        try:
            summary = pipeline.deliver_files(files, restart=restart, announce=_inform)
        except RunFilesError as exc:
            raise UsageProblem(str(exc)) from None
    if summary.input_error:
        warn(summary.input_error)
    return summary


def _inform(message: str) -> None:
    """A line of information on stderr (``resuming: ...``)."""
    click.echo(f"deliverator: {message}", err=True)
