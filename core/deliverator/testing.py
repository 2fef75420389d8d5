"""Test helpers for the core and for plugin authors (public, like ``deliverator.__all__``):
a real HTTP server on loopback that answers from a script and records every request, an
in-process run (:func:`deliver_events`), and the conformance kit
(:class:`DestinationConformance`).

Tests of delivery go over real sockets, never a mock of our own transport:

    with ScriptedServer([ScriptedResponse(status=500), ScriptedResponse(status=200)]) as server:
        ...  # point the destination at server.url
        assert len(server.requests) == 2
"""

from __future__ import annotations

import contextlib
import importlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

import attrs
import orjson

from deliverator.http import Headers

if TYPE_CHECKING:
    from deliverator.cli import cli
    from deliverator.clock import FakeClock
    from deliverator.conformance import (
        MALFORMED_BODIES,
        MINIMAL_EVENTS,
        RULES,
        SAMPLE_EVENTS,
        TYPICAL_ANSWERS,
        Conformance,
        ConformanceFailure,
        DestinationConformance,
    )
    from deliverator.destination import Destination, Judgement
    from deliverator.encoded import PayloadBatch
    from deliverator.events import InvalidRecord, check_event
    from deliverator.inprocess import deliver_events, load_destination

_LAZY: dict[str, str] = {
    "cli": "deliverator.cli",
    "check_event": "deliverator.events",
    "InvalidRecord": "deliverator.events",
    "FakeClock": "deliverator.clock",
    "MALFORMED_BODIES": "deliverator.conformance",
    "MINIMAL_EVENTS": "deliverator.conformance",
    "RULES": "deliverator.conformance",
    "SAMPLE_EVENTS": "deliverator.conformance",
    "TYPICAL_ANSWERS": "deliverator.conformance",
    "Conformance": "deliverator.conformance",
    "ConformanceFailure": "deliverator.conformance",
    "DestinationConformance": "deliverator.conformance",
    "Destination": "deliverator.destination",
    "Judgement": "deliverator.destination",
    "PayloadBatch": "deliverator.encoded",
    "deliver_events": "deliverator.inprocess",
    "load_destination": "deliverator.inprocess",
}
"""Names loaded on first use: an emulator that needs only the servers imports no delivery loop."""

__all__ = [
    "MALFORMED_BODIES",
    "MINIMAL_EVENTS",
    "RULES",
    "SAMPLE_EVENTS",
    "TYPICAL_ANSWERS",
    "Conformance",
    "ConformanceFailure",
    "Destination",
    "DestinationConformance",
    "FakeClock",
    "InvalidRecord",
    "Judgement",
    "LoopbackServer",
    "PayloadBatch",
    "QuickHandler",
    "RecordedRequest",
    "Responder",
    "ScriptedResponse",
    "ScriptedServer",
    "check_event",
    "cli",
    "deliver_events",
    "load_destination",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deliverator.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: Headers
    body: bytes

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return orjson.loads(self.body)


def _encode_body(body: bytes | str | Mapping[str, Any] | Sequence[Any] | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return orjson.dumps(body)


@attrs.frozen(kw_only=True)
class ScriptedResponse:
    """One answer: a status, a body (bytes, text, or a value encoded as JSON), headers, an
    optional delay, or ``drop=True`` to close the connection without answering."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] | Sequence[Any] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    delay_s: float = 0.0
    drop: bool = False

    def encoded_body(self) -> bytes:
        """The body as it goes on the wire."""
        return _encode_body(self.body)


Responder = Callable[[RecordedRequest], ScriptedResponse]


class _TrackingServer(ThreadingHTTPServer):
    """A threaded HTTP server that remembers its open connections, so that stopping also ends
    kept-alive ones (their threads would otherwise go on answering after ``shutdown``)."""

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

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (tests do it on purpose) is not a server error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End every open connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class QuickHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, and each answer leaving in one write without Nagle's delay
    (headers and body written separately would wait ~40 ms for a delayed ACK every time)."""

    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read what the server recorded, not its log."""


class LoopbackServer:
    """A real HTTP server on loopback, run in a background thread: the base of the scripted
    server below and of destination emulators. ``port=0`` picks a free port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _TrackingServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background (daemon) thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end open connections and close the socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()


class ScriptedServer(LoopbackServer):
    """A threaded HTTP/1.1 server on 127.0.0.1 and a free port.

    ``script`` is either a list of responses served in order (the last one repeats) or a
    function from the request to its response.
    """

    def __init__(self, script: Sequence[ScriptedResponse] | Responder) -> None:
        self._lock = threading.Lock()
        self._script = script
        self._served = 0
        self.requests: list[RecordedRequest] = []
        super().__init__(self._handler_class())

    def _respond(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests.append(request)
            if callable(self._script):
                script: Responder = self._script
            else:
                responses = list(self._script)
                chosen = responses[min(self._served, len(responses) - 1)]
                self._served += 1
                return chosen
        return script(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(QuickHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers=Headers(dict(self.headers.items())),
                    body=body,
                )
                response = outer._respond(request)
                if response.delay_s:
                    time.sleep(response.delay_s)
                if response.drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = response.encoded_body()
                self.send_response(response.status)
                headers = {k.lower(): v for k, v in response.headers.items()}
                if "content-type" not in headers and payload:
                    self.send_header("Content-Type", "application/json")
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler
