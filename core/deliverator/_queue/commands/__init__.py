"""The queue mode's commands (``enqueue``, ``worker``, ``outcomes``), one module each, listed
in ``deliverator._cli._COMMANDS``; and what they share: the ``--queue`` option and the way
their problems are reported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from deliverator._cli.errors import fail
from deliverator._errors import ConfigError
from deliverator._queue.connection import QueueError
from deliverator._queue.url import QueueUrl, parse_queue_url

F = TypeVar("F", bound=Callable[..., Any])

QUEUE_HELP = (
    "The queue: redis://HOST:PORT/DB, optionally ?stream=NAME&group=NAME (defaults deliverator:events and deliverator)."
)


def queue_option(function: F) -> F:
    """``--queue URL`` (required)."""
    return click.option("--queue", "queue_url_text", required=True, metavar="URL", help=QUEUE_HELP)(function)


def queue_url(text: str) -> QueueUrl:
    """The parsed ``--queue`` value, or exit 2 saying what is wrong with it."""
    try:
        return parse_queue_url(text)
    except ConfigError as exc:
        fail(str(exc))


@contextmanager
def queue_errors() -> Iterator[None]:
    """A queue that cannot be used (client missing, Redis unreachable) is exit 2, no traceback."""
    try:
        yield
    except QueueError as exc:
        fail(str(exc))
