"""``deliverator enqueue INPUT --queue URL``: add each record of INPUT to the events stream."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deliverator._cli.errors import EXIT_FAILURES, EXIT_OK, fail, warn
from deliverator._delivery.reader import iter_lines
from deliverator._queue.commands import queue_errors, queue_option, queue_url
from deliverator._queue.connection import connect, redis_errors
from deliverator._queue.producer import enqueue_lines

_MAX_LINE_BYTES = 4 * 1024 * 1024


@click.command()
@click.argument("input", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@queue_option
def command(input: str, queue_url_text: str) -> None:
    """Add each record of INPUT (a JSONL file, a dead-letter file, or - for stdin) to the queue's
    events stream, as it is. Prints how many were added and the last entry id.

    Exits 0 when every record was added, 1 when some line was too long to add (named on stderr),
    2 when the queue cannot be used.
    """
    url = queue_url(queue_url_text)
    path = None if input == "-" else Path(input)
    if path is not None and not path.is_file():
        fail(f"input file not found: {input}")
    with queue_errors():
        client = connect(url, patient=False)
        with redis_errors(url, "adding entries"):
            client.ping()
            if path is None:
                stream = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115  # stdin stays open
                result = enqueue_lines(client, url, iter_lines(stream, _MAX_LINE_BYTES))
            else:
                try:
                    with path.open("rb", buffering=0) as stream:
                        result = enqueue_lines(client, url, iter_lines(stream, _MAX_LINE_BYTES))
                except OSError as exc:
                    fail(f"cannot read the input {path}: {exc.strerror or exc}")
    for number in result.too_long:
        warn(f"line {number} is longer than {_MAX_LINE_BYTES} bytes: not added")
    last = f" (last id {result.last_id})" if result.last_id is not None else ""
    click.echo(f"enqueued {result.count} records to {url.stream}{last}")
    sys.exit(EXIT_FAILURES if result.too_long else EXIT_OK)
