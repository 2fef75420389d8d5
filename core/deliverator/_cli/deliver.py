"""``deliverator deliver INPUT --config FILE``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

import click

from deliverator._cli.errors import EXIT_FAILURES, EXIT_OK, config_errors, fail
from deliverator._cli.running import default_files, deliver
from deliverator._delivery import Summary
from deliverator._session import load_checked_config

EXIT_RESUMABLE: Final = 3
"""Stopped (Ctrl-C, SIGTERM) before every event had an outcome; the same command resumes."""
EXIT_OUTPUT: Final = 4
"""Outcome records could not be written (disk full, I/O error): the run stopped sending."""
EXIT_BROKEN_PIPE: Final = 141
"""The reader of standard output went away (128 + SIGPIPE, as a shell reports ``yes | head``)."""


@click.command()
@click.argument("input", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False), help="The TOML configuration file."
)
@click.option(
    "--results",
    type=str,
    default=None,
    help="Outcome records (JSONL). Default: beside INPUT, its name without the extension plus .results.jsonl "
    "(events.jsonl -> events.results.jsonl; standard output for stdin); '-' for stdout.",
)
@click.option(
    "--dead-letter",
    "dead_letter",
    type=str,
    default=None,
    help="Failed events (JSONL), created only if one fails. Default: beside INPUT, its name without the extension "
    "plus .dead-letter.jsonl (events.jsonl -> events.dead-letter.jsonl; a replay numbers its own: "
    "events.dead-letter.jsonl -> events.dead-letter-2.jsonl; none for stdin).",
)
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option("--restart", is_flag=True, help="Discard an interrupted run's journal and results; start over.")
def command(
    input: str, config_path: str, results: str | None, dead_letter: str | None, no_progress: bool, restart: bool
) -> None:
    """Deliver INPUT (a JSONL file of Segment events, a dead-letter file, or - for stdin).

    Exits 0 when every event was delivered or ignored, 1 when some event failed (or the input
    could not be read to its end), 2 on a usage or configuration error, 3 when it was stopped
    before every event had an outcome (the same command resumes), 4 when outcome records could
    not be written.
    """
    input_path = None if input == "-" else Path(input)
    if input_path is not None and not input_path.is_file():
        fail(f"input file not found: {input}")
    with config_errors():
        config = load_checked_config(config_path)
        files = default_files(input_path, results, dead_letter)
        summary = deliver(config, files, show_progress=not no_progress, restart=restart)
    sys.exit(_report(summary, files.results, files.dead_letters))


def _report(summary: Summary, results: Path | None, dead_letters: Path | None) -> int:
    """Print the end of the run and choose the exit code."""
    if summary.broken_pipe:
        # Like other Unix tools: no message, and nothing more for a reader that left.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    out = sys.stderr if results is None else sys.stdout
    if summary.output_error is not None:
        then = " (the same command resumes once that is fixed)" if summary.resumable else ""
        click.echo(f"deliverator: error: {summary.output_error}; stopped sending{then}", err=True)
        return EXIT_OUTPUT
    if summary.process_error is not None:
        click.echo(f"deliverator: error: {summary.process_error}; the run stopped", err=True)
    for line in summary.lines([("outcomes", results), ("dead letters", dead_letters)]):
        click.echo(line, file=out)
    if summary.resumable:
        click.echo("stopped before every event had an outcome: the same command resumes", file=sys.stderr)
        return EXIT_RESUMABLE
    return EXIT_FAILURES if summary.failed or summary.input_error else EXIT_OK
