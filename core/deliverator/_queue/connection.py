"""The Redis client (the optional extra ``deliverator[redis]``), the consumer group, and the
fields of the entries deliverator writes and reads.

Events stream entries carry the input record under ``event``; outcome and dead-letter entries
carry their JSON record under ``record``. Producers other than ``deliverator enqueue`` write
``XADD <stream> * event <json>``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from deliverator._errors import DeliveratorError
from deliverator._queue.url import QueueUrl

if TYPE_CHECKING:
    import redis

EVENT_FIELD: Final = b"event"
RECORD_FIELD: Final = b"record"
MISSING_EXTRA: Final = "queue mode needs the Redis client: pip install 'deliverator[redis]'"


class QueueError(DeliveratorError):
    """The queue cannot be used: the client is not installed, or Redis cannot be reached or
    refused a command. The message names the queue without its password."""


def redis_module() -> Any:
    """The ``redis`` package, or :class:`QueueError` naming the extra that installs it."""
    try:
        import redis
    except ImportError:
        raise QueueError(MISSING_EXTRA) from None
    return redis


def connect(
    url: QueueUrl, *, single_connection: bool = False, read_timeout_s: float = 30.0, patient: bool = True
) -> redis.Redis:
    """A client for ``url`` (bytes in and out, never decoded). ``single_connection`` pins one
    connection, for a reader whose blocking read another thread may interrupt. ``patient``
    keeps the client's own retries (about 5 s of reconnecting: a worker rides out a Redis
    restart); one-shot commands give up after three quick tries instead."""
    module = redis_module()
    retry: dict[str, Any] = {}
    if not patient:
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        retry["retry"] = Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)
    client: redis.Redis = module.Redis(
        host=url.host,
        port=url.port,
        db=url.db,
        username=url.username,
        password=url.password.reveal() if url.password is not None else None,
        ssl=url.tls,
        socket_timeout=read_timeout_s,
        socket_connect_timeout=5.0,
        single_connection_client=single_connection,
        client_name="deliverator",
        **retry,
    )
    return client


@contextlib.contextmanager
def redis_errors(url: QueueUrl, doing: str) -> Iterator[None]:
    """Turn the client's exceptions into :class:`QueueError` saying what failed, and where."""
    module = redis_module()
    try:
        yield
    except module.RedisError as exc:
        raise QueueError(f"{doing} on {url} failed: {describe_error(exc, url)}") from None


def describe_error(exc: BaseException, url: QueueUrl) -> str:
    """``Type: message`` of a client exception, with the queue's password masked."""
    text = f"{type(exc).__name__}: {exc}"
    if url.password is not None and url.password.reveal():
        text = text.replace(url.password.reveal(), "********")
    return text


def ensure_group(client: redis.Redis, url: QueueUrl) -> None:
    """Create the stream and the consumer group if they do not exist yet. A new group starts
    at the stream's beginning, so entries enqueued before the first worker are delivered."""
    module = redis_module()
    try:
        client.xgroup_create(url.stream, url.group, id="0", mkstream=True)
    except module.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
