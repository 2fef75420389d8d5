"""The emulator as a real HTTP/1.1 server on loopback.

The core's ``LoopbackServer`` (a threaded server that also ends kept-alive connections on
stop) hands every request to an :class:`~deliverator_mixpanel.emulator.api.IngestionApi` and
writes the :class:`Answer` it gets back. Nothing here knows Mixpanel's rules.

    with Emulator(faults=Faults(rate_limit_every=3)) as emu:
        ...  # point the destination's endpoint at emu.url
        assert len(emu.events()) == 10
"""

from __future__ import annotations

import contextlib
import socket
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

import attrs

from deliverator import Clock
from deliverator.testing import LoopbackServer, QuickHandler
from deliverator_mixpanel.emulator import answers
from deliverator_mixpanel.emulator.answers import Answer
from deliverator_mixpanel.emulator.api import IngestionApi
from deliverator_mixpanel.emulator.faults import Faults
from deliverator_mixpanel.emulator.limits import MAX_READ_BYTES, MAX_REQUEST_BYTES
from deliverator_mixpanel.emulator.project import Project
from deliverator_mixpanel.emulator.store import EmulatorStats, Store


class Emulator(LoopbackServer):
    """A Mixpanel ingestion stand-in (``/import``, ``/engage``) on ``host``:``port`` (0 = a
    free port). Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    ``faults`` may be replaced while it runs; ``clock`` drives latency, the rate window and
    the "not more than an hour ahead" check (tests pass a FakeClock);
    ``max_request_bytes`` plays a lower request limit than the documented 10 MB."""

    def __init__(
        self,
        *,
        project: Project | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        clock: Clock | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._store = Store()
        self.project = project or Project()
        self._api = IngestionApi(
            self.project, self._store, faults or Faults(), clock=clock, max_request_bytes=max_request_bytes
        )
        super().__init__(self._handler_class(), host, port)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, project_id={self.project.project_id!r})"

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._api.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._api.injector.replace(faults)

    def events(self) -> list[dict[str, Any]]:
        """The distinct imported events."""
        return self._store.events()

    def imported_count(self) -> int:
        """How many distinct events were imported."""
        return self._store.stats().events_imported

    def insert_ids(self) -> Counter[str]:
        """Every ``$insert_id`` received, with how many times it arrived."""
        return self._store.insert_ids()

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Profile properties by distinct id."""
        return self._store.profiles()

    def stats(self) -> EmulatorStats:
        """Every counter at once."""
        return self._store.stats()

    def clear(self) -> None:
        """Forget everything received (faults and their counters stay)."""
        self._store.clear()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self._api
        store = self._store

        class Handler(QuickHandler):
            def version_string(self) -> str:
                return "mixpanel-emulator"

            def _handle(self) -> None:
                store.count_request()
                body = self._read_body()
                if isinstance(body, Answer):
                    self._send(body)
                    return
                headers = {key.lower(): value for key, value in self.headers.items()}
                try:
                    answer = api.answer(self.command, self.path, headers, body)
                except Exception as exc:  # an emulator bug must answer, not hang the client
                    answer = answers.error(500, f"emulator error: {type(exc).__name__}: {exc}")
                self._send(answer)

            def _read_body(self) -> bytes | Answer:
                if self.headers.get("Transfer-Encoding"):
                    return attrs.evolve(answers.error(411, "send a Content-Length, not chunks"), close=True)
                declared = self.headers.get("Content-Length")
                if declared is None:
                    return b""
                if not declared.strip().isdigit():
                    return attrs.evolve(answers.error(400, "bad Content-Length"), close=True)
                length = int(declared)
                if length > MAX_READ_BYTES:
                    return answers.too_large(MAX_READ_BYTES, close=True)
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

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler
