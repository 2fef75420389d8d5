"""``deliverator report RESULTS [--html FILE]``: what happened to a run's events."""

from __future__ import annotations

from pathlib import Path

import click

from deliverator._cli.errors import fail
from deliverator._report import Tally, tally_file
from deliverator._report.tally import MAX_ATTEMPTS_BUCKET

_TERMINAL_SAMPLE_CHARS = 600


@click.command()
@click.argument("results", metavar="RESULTS", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the report as one self-contained HTML page to this file.",
)
@click.option("--messages", default=10, show_default=True, type=click.IntRange(0), help="Messages to list.")
def command(results: str, html: str | None, messages: int) -> None:
    """Summarise RESULTS (an outcome file written by 'deliverator deliver', or - for stdin):
    events by outcome, status and error type, the most frequent error messages each with a
    sample of what was sent and what the destination answered, and how many attempts events
    took. The file is read as a stream: memory stays flat however long it is."""
    path = None if results == "-" else Path(results)
    if path is not None and not path.is_file():
        fail(f"results file not found: {results}")
    try:
        tally = tally_file(path)
    except OSError as exc:
        fail(f"cannot read {results}: {exc.strerror or exc}")
    _print(tally, messages)
    if html is not None:
        from deliverator._report.page import write_page

        try:
            write_page(tally, results, Path(html))
        except OSError as exc:
            fail(f"cannot write {html}: {exc.strerror or exc}")
        click.echo(f"report: {html}")


def _print(tally: Tally, message_count: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{tally.records:,} outcome records", highlight=False)
    if tally.unreadable:
        console.print(f"{tally.unreadable:,} lines were not outcome records", highlight=False)
    outcomes = Table(title="Outcomes")
    outcomes.add_column("outcome")
    outcomes.add_column("events", justify="right")
    for name, count in tally.by_outcome.most_common():
        outcomes.add_row(name, f"{count:,}")
    console.print(outcomes)
    types = Table(title="Outcomes by error type")
    for column in ("outcome", "error type"):
        types.add_column(column)
    types.add_column("events", justify="right")
    for (outcome, errortype), count in sorted(tally.by_errortype.items(), key=lambda item: (-item[1], item[0])):
        types.add_row(outcome, errortype, f"{count:,}")
    console.print(types)
    statuses = Table(title="Statuses")
    statuses.add_column("status")
    statuses.add_column("events", justify="right")
    for status, count in sorted(tally.by_status.items()):
        statuses.add_row(str(status), f"{count:,}")
    console.print(statuses)
    attempts = Table(title="Attempts (requests that carried an event; 0: never sent)")
    attempts.add_column("attempts")
    attempts.add_column("events", justify="right")
    for number, count in sorted(tally.attempts.items()):
        attempts.add_row(f"{number}+" if number == MAX_ATTEMPTS_BUCKET else str(number), f"{count:,}")
    console.print(attempts)
    top = tally.top_messages(message_count)
    if top:
        title = "Most frequent messages" + ("" if tally.exact else " (counts are lower bounds)")
        console.print(f"[bold]{title}[/bold]")
    for group in top:
        kind = f"[{group.outcome}] {group.errortype or ''} {group.status or ''}"
        events = "event" if group.count == 1 else "events"
        console.print(f"\n{group.count:,} {events}: {kind}: {group.message}", highlight=False, markup=False)
        where = f" (event {group.sample_index})" if group.sample_index is not None else ""
        console.print(f"  request to destination{where}:", highlight=False)
        console.print(_indent(group.sample_sent), highlight=False, markup=False)
        console.print("  response from destination:", highlight=False)
        console.print(_indent(group.sample_body), highlight=False, markup=False)


def _indent(text: str) -> str:
    if len(text) > _TERMINAL_SAMPLE_CHARS:
        text = text[:_TERMINAL_SAMPLE_CHARS] + "\n… (cut; the HTML report shows more)"
    return "\n".join("    " + line for line in text.splitlines())
