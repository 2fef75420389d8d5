"""``deliverator deliver INPUT --config FILE``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deliverator.cli.errors import EXIT_FAILURES, EXIT_OK, config_errors, fail
from deliverator.cli.running import default_paths, deliver
from deliverator.session import load_checked_config


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
    "(events.jsonl -> events.results.jsonl; stdin -> stdin.results.jsonl here); '-' for stdout."
)
@click.option(
    "--dead-letter",
    "dead_letter",
    type=str,
    default=None,
    help="Failed events (JSONL). Default: beside INPUT, its name without the extension plus .dead-letter.jsonl "
    "(events.jsonl -> events.dead-letter.jsonl; stdin -> stdin.dead-letter.jsonl here).",
)
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
def command(input: str, config_path: str, results: str | None, dead_letter: str | None, no_progress: bool) -> None:
    """Deliver INPUT (a JSONL file of Segment events, a dead-letter file, or - for stdin).

    Exits 0 when every event was delivered or ignored, 1 when some event failed (or the input
    could not be read to its end), 2 on a usage or configuration error.
    """
    input_path = None if input == "-" else Path(input)
    if input_path is not None and not input_path.is_file():
        fail(f"input file not found: {input}")
    with config_errors():
        config = load_checked_config(config_path)
        files = default_paths(input_path, results, dead_letter)
        summary = deliver(config, files, show_progress=not no_progress)
    out = sys.stderr if files.results is None else sys.stdout
    for line in summary.lines([("outcomes", files.results), ("dead letters", files.dead_letters)]):
        click.echo(line, file=out)
    sys.exit(EXIT_FAILURES if summary.failed or summary.input_error else EXIT_OK)
