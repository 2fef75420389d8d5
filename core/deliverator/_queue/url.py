"""The ``--queue`` URL: ``redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?stream=NAME&group=NAME]``.

``rediss://`` is the same over TLS. The stream defaults to ``deliverator:events`` and the
group to ``deliverator``; outcome records go to ``<stream>:outcomes`` and failed events to
``<stream>:dead-letters``. A password is kept as a :class:`~deliverator.Secret`, so the URL
can be shown (``str``) without it.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs, quote, unquote, urlsplit

import attrs

from deliverator._errors import ConfigError
from deliverator._secret import Secret

DEFAULT_STREAM: Final = "deliverator:events"
DEFAULT_GROUP: Final = "deliverator"
DEFAULT_PORT: Final = 6379
_SCHEMES: Final = ("redis", "rediss")
_QUERY_KEYS: Final = ("stream", "group")


@attrs.frozen(kw_only=True)
class QueueUrl:
    """Where the queue lives and which stream and consumer group it is."""

    host: str
    port: int = DEFAULT_PORT
    db: int = 0
    tls: bool = False
    username: str | None = None
    password: Secret | None = attrs.field(default=None, repr=False)
    stream: str = DEFAULT_STREAM
    group: str = DEFAULT_GROUP

    @property
    def outcomes_stream(self) -> str:
        """Where outcome records go: one per entry, with its ``entry_id``."""
        return f"{self.stream}:outcomes"

    @property
    def dead_letter_stream(self) -> str:
        """Where failed events go, as dead letters (valid ``deliverator deliver`` input)."""
        return f"{self.stream}:dead-letters"

    def __str__(self) -> str:
        user = quote(self.username or "", safe="")
        auth = f"{user}:********@" if self.password is not None else f"{user}@" if user else ""
        scheme = "rediss" if self.tls else "redis"
        host = f"[{self.host}]" if ":" in self.host else self.host
        names = f"stream={quote(self.stream, safe=':')}&group={quote(self.group, safe=':')}"
        return f"{scheme}://{auth}{host}:{self.port}/{self.db}?{names}"


def parse_queue_url(text: str) -> QueueUrl:
    """Read a ``--queue`` URL; raises :class:`ConfigError` saying what is wrong (never
    repeating a password)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"not a valid queue URL: {exc}", "--queue") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            f"a queue URL starts with redis:// or rediss://, got {parts.scheme + '://' if parts.scheme else 'none'}",
            "--queue",
        )
    if not parts.hostname:
        raise ConfigError("the queue URL names no host (redis://HOST:PORT/DB)", "--queue")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ConfigError(f"the database in a queue URL is a number (redis://HOST:PORT/0), got {path!r}", "--queue")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ConfigError(f"cannot read the queue URL's query {parts.query!r}", "--queue") from None
    unknown = sorted(set(query) - set(_QUERY_KEYS))
    if unknown:
        raise ConfigError(f"unknown queue URL parameter {unknown[0]!r} (expected: stream, group)", "--queue")
    names: dict[str, str] = {}
    for key in _QUERY_KEYS:
        values = query.get(key)
        if values is None:
            continue
        if len(values) > 1:
            raise ConfigError(f"the queue URL gives {key}= more than once", "--queue")
        if not values[0].strip():
            raise ConfigError(f"the queue URL's {key}= is empty", "--queue")
        names[key] = values[0]
    password = parts.password
    return QueueUrl(
        host=parts.hostname,
        port=port if port is not None else DEFAULT_PORT,
        db=int(path) if path else 0,
        tls=parts.scheme == "rediss",
        username=unquote(parts.username) if parts.username else None,
        password=Secret(unquote(password)) if password is not None else None,
        stream=names.get("stream", DEFAULT_STREAM),
        group=names.get("group", DEFAULT_GROUP),
    )
