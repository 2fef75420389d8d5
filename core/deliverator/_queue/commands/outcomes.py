"""``deliverator outcomes --queue URL [--dead-letters] [--follow]``: the queue's outcome (or
dead-letter) records as JSONL on standard output."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import click

from deliverator._queue.commands import queue_errors, queue_option, queue_url
from deliverator._queue.connection import connect, redis_errors
from deliverator._queue.records import RecordReader


@click.command()
@queue_option
@click.option("--dead-letters", is_flag=True, help="The failed events instead (valid 'deliverator deliver' input).")
@click.option("--follow", is_flag=True, help="After the last record, keep printing new ones until Ctrl-C.")
def command(queue_url_text: str, dead_letters: bool, follow: bool) -> None:
    """Print the outcome records the workers wrote, oldest first, one JSON object per line
    (each with the stream entry it is about under "entry_id")."""
    url = queue_url(queue_url_text)
    stream = url.dead_letter_stream if dead_letters else url.outcomes_stream
    out = sys.stdout.buffer
    with queue_errors():
        reader = RecordReader(connect(url, patient=follow), stream)  # a follower rides out restarts

        def stop(signum: int, frame: FrameType | None) -> None:
            reader.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with redis_errors(url, f"reading {stream}"):
                for record in reader.records(follow=follow):
                    out.write(record + b"\n")
                    if follow:
                        out.flush()
            out.flush()
        except BrokenPipeError:
            # The reader of our output went away (| head): stop quietly, like other tools.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
