"""The emulator as a real HTTP/1.1 server on loopback.

The core's :class:`deliverator.testing.LoopbackServer` runs the server thread; every request
goes to an :class:`~deliverator_amplitude.emulator.api.HttpApi` and the :class:`Answer` it
gives is written back. Nothing here knows Amplitude's rules; it only reads bodies safely.

    with Emulator(api_key="key", faults=Faults(user_events_per_second=30)) as emu:
        ...  # point the destination's endpoint at emu.url
        assert emu.kept_count() == 10
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

from deliverator import Clock
from deliverator.testing import LoopbackServer, QuickHandler
from deliverator_amplitude.emulator import answers
from deliverator_amplitude.emulator.answers import Answer
from deliverator_amplitude.emulator.api import HttpApi
from deliverator_amplitude.emulator.faults import Faults
from deliverator_amplitude.emulator.limits import MAX_BODY_BYTES, MAX_EVENTS, MAX_READ_BYTES
from deliverator_amplitude.emulator.store import Arrival, EmulatorStats, Store


class Emulator(LoopbackServer):
    """An Amplitude HTTP V2 API stand-in on ``host``:``port`` (0 = a free port), for one
    project whose key is ``api_key``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``faults`` may be
    replaced while it runs. ``clock`` drives latency, the per-user limit and the arrival times
    it records (tests pass the same FakeClock as the run). ``max_events`` and ``max_body_bytes``
    lower the documented limits of 2000 events and 1 MB, to make it answer 413.
    """

    def __init__(
        self,
        *,
        api_key: str = "key",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        clock: Clock | None = None,
        max_events: int = MAX_EVENTS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._store = Store()
        self._api = HttpApi(
            api_key, self._store, faults or Faults(), clock, max_events=max_events, max_body_bytes=max_body_bytes
        )
        super().__init__(self._handler_class(), host, port)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r})"

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._api.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._api.replace_faults(faults)

    # --- what arrived ------------------------------------------------------------------------

    def kept(self) -> list[Mapping[str, Any]]:
        """Distinct ingested events in arrival order."""
        return self._store.kept()

    def kept_count(self) -> int:
        """How many distinct events were ingested."""
        return self._store.kept_count()

    def arrivals(self) -> list[Arrival]:
        """Distinct ingested events with the time each arrived on the emulator's clock."""
        return self._store.arrivals()

    def received_insert_ids(self) -> Counter[str]:
        """Every ``insert_id`` seen, with how many times it arrived (whatever the answer)."""
        return self._store.received_insert_ids()

    def responses_by_status(self) -> dict[int, int]:
        """How many answers were sent with each status."""
        return self._store.stats().by_status

    def stats(self) -> EmulatorStats:
        """Every counter at once."""
        return self._store.stats()

    def clear(self) -> None:
        """Forget everything received (faults stay as they are)."""
        self._store.clear()

    # --- HTTP plumbing -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self._api
        store = self._store

        class Handler(QuickHandler):
            def version_string(self) -> str:
                return "amplitude-emulator"

            def _handle(self) -> None:
                store.count_request()
                body = self._read_body()
                if isinstance(body, Answer):
                    self._send(body)
                    return
                try:
                    answer = api.answer(self.command, self.path, body)
                except Exception as exc:  # an emulator bug must answer, not hang the client
                    answer = answers.json_answer(500, {"error": f"emulator bug: {type(exc).__name__}: {exc}"})
                self._send(answer)

            def _read_body(self) -> bytes | Answer:
                if self.headers.get("Transfer-Encoding"):
                    return answers.bad_request("send a Content-Length, not chunks", close=True)
                declared = self.headers.get("Content-Length")
                if declared is None:
                    return b""
                if not declared.strip().isdigit():
                    return answers.bad_request(f"bad Content-Length {declared[:40]!r}", close=True)
                length = int(declared)
                if length > MAX_READ_BYTES:
                    return answers.too_large(close=True)
                return self.rfile.read(length) if length else b""

            def _send(self, answer: Answer) -> None:
                store.count_answer(answer.status)
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
