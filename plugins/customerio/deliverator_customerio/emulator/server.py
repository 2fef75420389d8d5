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
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

import attrs

from deliverator import Clock, HttpClient
from deliverator.testing import LoopbackServer, QuickHandler
from deliverator_customerio.emulator import answers
from deliverator_customerio.emulator.answers import Answer
from deliverator_customerio.emulator.api import Account, TrackApi
from deliverator_customerio.emulator.client import EmulatorClient
from deliverator_customerio.emulator.faults import Faults
from deliverator_customerio.emulator.limits import MAX_READ_BYTES
from deliverator_customerio.emulator.store import EmulatorStats, Store


class Emulator(LoopbackServer):
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
        super().__init__(self._handler_class(), host, port)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, site_id={self._api.account.site_id!r}, fast={self._api.fast})"

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

        class Handler(QuickHandler):
            def version_string(self) -> str:
                return "customerio-emulator"

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
