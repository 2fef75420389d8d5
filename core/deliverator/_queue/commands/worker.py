"""``deliverator worker --config FILE --queue URL [--consumer NAME]``: one worker of the queue.

It runs the same loop as ``deliver`` (:class:`deliverator._pipeline.Pipeline`) over the
consumer group's entries, until SIGTERM or Ctrl-C: then in-flight requests finish, their
outcomes are recorded, and every entry without an outcome stays pending for another worker
(released, so that one claims it at once). Exit 0 after such a stop; 1 when Redis failed under
it (the entries it held stay pending) or an answer stopped it (a rejected API key: what was not
sent stays pending for a worker with a fixed configuration); 2 on a usage or configuration
error.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from deliverator._cli.errors import EXIT_FAILURES, EXIT_OK, config_errors, warn
from deliverator._delivery.summary import Summary
from deliverator._pipeline import Pipeline
from deliverator._queue.commands import queue_errors, queue_option, queue_url
from deliverator._queue.connection import connect, ensure_group, redis_errors
from deliverator._queue.lease import Lease
from deliverator._queue.sink import RedisSink
from deliverator._queue.source import RedisSource


@contextmanager
def _stop_on_signals(pipeline: Pipeline) -> Iterator[None]:
    """First Ctrl-C or SIGTERM: stop gracefully. A second Ctrl-C stops at once (what is not
    acknowledged stays pending all the same)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        warn("stopping: finishing in-flight requests; entries without an outcome stay pending for other workers")
        pipeline.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def default_consumer() -> str:
    """``HOST-PID``: unique among live workers, on one machine or many."""
    return f"{socket.gethostname()}-{os.getpid()}"


@click.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False), help="The TOML configuration file."
)
@queue_option
@click.option(
    "--consumer",
    default=None,
    metavar="NAME",
    help="This worker's name in the consumer group (default HOST-PID); one per live worker.",
)
def command(config_path: str, queue_url_text: str, consumer: str | None) -> None:
    """Deliver the queue's events as one worker of its consumer group, until SIGTERM or Ctrl-C.

    Start as many as you like, on as many machines: each entry goes to one worker, and gets
    exactly one outcome record ('deliverator outcomes' prints them). Entries of a worker that died are
    claimed by the others after [queue] claim_idle_s.
    """
    url = queue_url(queue_url_text)
    name = consumer or default_consumer()
    with config_errors(), queue_errors():
        pipeline = Pipeline(config_path)
        for message in pipeline.warnings:
            warn(message)
        settings = pipeline.config.queue
        control = connect(url)
        # The blocking read must outlast its own wait; another thread interrupts it on stop.
        reader = connect(url, single_connection=True, read_timeout_s=settings.block_ms / 1000 + 30)
        with redis_errors(url, "joining the consumer group"):
            ensure_group(control, url)
        lease = Lease(control, url, name, settings.claim_idle_s)
        source = RedisSource(
            url, settings, lease, reader=reader, control=control, max_line_bytes=pipeline.options.max_line_bytes
        )
        sink = RedisSink(control, url, lease)
        click.echo(
            f"deliverator: worker {name} of group {url.group} on {url}, delivering to {pipeline.destination.spec.name}",
            err=True,
        )
        with _stop_on_signals(pipeline):
            summary = pipeline.run(source, sink)
    _report(summary, source, sink)
    stopped = summary.input_error or summary.output_error or summary.stopped_because
    sys.exit(EXIT_FAILURES if stopped else EXIT_OK)


def _report(summary: Summary, source: RedisSource, sink: RedisSink) -> None:
    for problem in (summary.input_error, summary.output_error):
        if problem:
            warn(problem)
    extra = [f"{source.claimed} claimed from other workers"] if source.claimed else []
    if source.poisoned:
        extra.append(f"{source.poisoned} poison messages")
    if source.deleted:
        extra.append(f"{source.deleted} pending entries found trimmed from the stream, without an outcome")
    if sink.skipped:
        extra.append(f"{sink.skipped} finished by another worker after this one stalled")
    click.echo(summary.line() + (f" ({', '.join(extra)})" if extra else ""), err=True)
