"""A deadline for a whole HTTP request: connect, headers and body together.

urllib3's timeouts bound each socket operation, not a request: a server that drips one byte a
second, or answers ``100 Continue`` forever, keeps every read inside its timeout and the
request never ends. So each request is *watched*: one watchdog thread per client holds the
deadlines of the requests in flight and, when one passes, shuts its socket down. The read
blocked on it returns at once, and the client reports a timeout (retryable, like any other).

The connection a request uses is found by urllib3 inside its pool, so the pool's connection
classes are subclasses that attach themselves to the watch of the thread that is using them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Final

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_IDLE_EXIT_S: Final = 5.0
"""How long the watchdog thread waits with nothing to watch before it ends (a new request
starts it again), so idle clients hold no thread."""

_current = threading.local()


class RequestWatch:
    """One request's deadline and the connection carrying it."""

    __slots__ = ("connection", "deadline", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: HTTPConnection | None = None
        self.expired = False

    def attach(self, connection: HTTPConnection) -> None:
        """``connection`` now carries this request (shut down at once if the time is up)."""
        self.connection = connection
        if self.expired:
            _shut_down(connection)


def _shut_down(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # socket.socket's own shutdown, not SSLSocket's (which tears down TLS state another
    # thread is reading through): the blocked read sees end of stream.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """Ends requests that outlive their deadline (one per HTTP client)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._watches: set[RequestWatch] = set()
        self._running = False

    def start(self, seconds: float) -> RequestWatch:
        """Watch the calling thread's next request for ``seconds``."""
        watch = RequestWatch(time.monotonic() + seconds)
        with self._condition:
            self._watches.add(watch)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="deliverator-request-deadlines", daemon=True).start()
            self._condition.notify()
        _current.watch = watch
        return watch

    def finish(self, watch: RequestWatch) -> None:
        """The request ended (however it did)."""
        _current.watch = None
        with self._condition:
            self._watches.discard(watch)

    def _run(self) -> None:
        with self._condition:
            while True:
                if not self._watches:
                    self._condition.wait(_IDLE_EXIT_S)
                    if not self._watches:
                        self._running = False
                        return
                    continue
                earliest = min(self._watches, key=lambda watch: watch.deadline)
                left = earliest.deadline - time.monotonic()
                if left > 0:
                    self._condition.wait(left)
                    continue
                self._watches.discard(earliest)
                earliest.expired = True
                if earliest.connection is not None:
                    _shut_down(earliest.connection)


def _attach_current(connection: HTTPConnection) -> None:
    watch: RequestWatch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(connection)


class WatchedHTTPConnection(HTTPConnection):
    """An HTTP connection that joins the deadline of the request using it."""

    def connect(self) -> None:
        super().connect()
        _attach_current(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self)
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    """The HTTPS twin of :class:`WatchedHTTPConnection`."""

    def connect(self) -> None:
        super().connect()
        _attach_current(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self)
        super().request(*args, **kwargs)


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    """A pool of :class:`WatchedHTTPConnection`."""

    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    """A pool of :class:`WatchedHTTPSConnection`."""

    ConnectionCls = WatchedHTTPSConnection


POOL_CLASSES: Final = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}
"""For ``PoolManager.pool_classes_by_scheme``."""
