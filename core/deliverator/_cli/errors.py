"""How the command line reports problems: a message on stderr, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from deliverator._errors import ConfigError, PluginError
from deliverator._redaction import redact_urls

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2


class UsageProblem(Exception):
    """A problem with what the command was asked to do (a file that cannot be opened, ...):
    reported like a configuration error, exit 2."""


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error and exit 2 (usage or configuration problem)."""
    click.echo(f"deliverator: error: {redact_urls(message)}", err=True)
    sys.exit(EXIT_USAGE)


@contextmanager
def config_errors() -> Iterator[None]:
    """Turn configuration and plugin errors into exit 2 with a one-line message."""
    try:
        yield
    except ConfigError as exc:
        fail(f"configuration: {exc}")
    except (PluginError, UsageProblem) as exc:
        fail(str(exc))


def warn(message: str, echo: Callable[..., None] = click.echo) -> None:
    """Print a warning on stderr."""
    echo(f"deliverator: warning: {redact_urls(message)}", err=True)
