"""The emulator as a real HTTP/1.1 server on loopback.

A ``ThreadingHTTPServer`` (one thread per connection, keep-alive on) hands every request to a
:class:`~deliverator_customerio.emulator.api.TrackApi` and writes the :class:`Answer` it gets
back. Nothing here knows Customer.io's rules; it only reads bodies safely and writes answers.

    with Emulator(site_id="site", api_key="key", faults=Faults(rate_limit_every=3)) as emu:
        ...  # point the destination's endpoint at emu.url
        assert emu.accepted_count() == 10
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from deliverator import Clock, HttpClient
from deliverator_customerio.emulator import answers
from deliverator_customerio.emulator.answers import Answer
from deliverator_customerio.emulator.api import Account, TrackApi
from deliverator_customerio.emulator.client import EmulatorClient
from deliverator_customerio.emulator.faults import Faults
from deliverator_customerio.emulator.limits import MAX_READ_BYTES
from deliverator_customerio.emulator.store import EmulatorStats, Store


class _Server(ThreadingHTTPServer):
    """Tracks open connections, so that stopping also ends kept-alive ones (their threads
    would otherwise go on answering after ``shutdown``)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Emulator:
    """A Customer.io Track API stand-in on ``host``:``port`` (0 = a free port).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``faults`` may be
    replaced while it runs. ``fast=True`` skips validation and keeps only counts.
    ``clock`` drives injected latency and the per-second rate limit (tests pass a FakeClock).
    """

    def __init__(
        self,
        *,
        site_id: str = "site",
        api_key: str = "key",
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us",
        environment_id: int = 1,
        faults: Faults | None = None,
        fast: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._store = Store()
        account = Account(site_id=site_id, api_key=api_key, region=region, environment_id=environment_id)
        self._api = TrackApi(account, self._store, faults or Faults(), fast=fast, clock=clock)
        self._server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, site_id={self._api.account.site_id!r}, fast={self._api.fast})"

    # --- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background (daemon) thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="customerio-emulator", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    # --- where and how -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to use as the destination's ``endpoint``, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._server.server_address[1])

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._api.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._api.injector.replace(faults)

    def client(self, http: HttpClient, *, site_id: str | None = None, api_key: str | None = None) -> EmulatorClient:
        """A client for this emulator over ``http``, with its credentials unless others are given."""
        account = self._api.account
        return EmulatorClient(http, self.url, site_id or account.site_id, api_key or account.api_key)

    # --- what arrived ------------------------------------------------------------------------

    def accepted(self) -> list[Any]:
        """Distinct accepted items in arrival order (always empty in fast mode)."""
        return self._store.accepted()

    def accepted_count(self) -> int:
        """How many distinct items were accepted (fast mode: items received, not deduplicated)."""
        return self._store.accepted_count()

    def received_ids(self) -> Counter[str]:
        """Every ``id`` seen in an item, with how many times it arrived (accepted or not)."""
        return self._store.received_ids()

    @property
    def requests(self) -> int:
        """Requests received so far, whatever their answer."""
        return self._store.stats().requests

    def responses_by_status(self) -> dict[int, int]:
        """How many answers were sent with each status."""
        return self._store.stats().by_status

    def stats(self) -> EmulatorStats:
        """Every counter at once."""
        return self._store.stats()

    def clear(self) -> None:
        """Forget everything received (faults and their counters stay as they are)."""
        self._store.clear()

    # --- HTTP plumbing -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self._api
        store = self._store

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write (a buffered wfile, flushed per request) and
            # without Nagle's delay: otherwise every answer waits ~40 ms for a delayed ACK.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def version_string(self) -> str:
                return "customerio-emulator"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the counters are the log."""

            def _handle(self) -> None:
                store.count_request()
                body = self._read_body()
                if isinstance(body, Answer):
                    self._send(body)
                    return
                try:
                    answer = api.answer(self.command, self.path, self.headers.get("Authorization"), body)
                except Exception as exc:  # an emulator bug must answer, not hang the client
                    answer = answers.errors_answer(500, "emulator_error", "", f"{type(exc).__name__}: {exc}")
                self._send(answer)

            def _read_body(self) -> bytes | Answer:
                if self.headers.get("Transfer-Encoding"):
                    return answers.errors_answer(411, "length_required", "", "send a Content-Length, not chunks")
                declared = self.headers.get("Content-Length")
                if declared is None:
                    return b""
                if not declared.strip().isdigit():
                    answer = answers.errors_answer(400, "invalid", "", f"bad Content-Length {declared[:40]!r}")
                    return attrs.evolve(answer, close=True)
                length = int(declared)
                if length > MAX_READ_BYTES:
                    return answers.too_large(length, MAX_READ_BYTES, "the request body", False, close=True)
                return self.rfile.read(length) if length else b""

            def _send(self, answer: Answer) -> None:
                store.count_answer(None if answer.drop else answer.status)
                if answer.drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for key, value in answer.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                if answer.close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler
