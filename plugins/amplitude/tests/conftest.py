"""Fixtures for the Amplitude plugin's tests: a real HTTP client, one emulator per module
(emptied for each test) and helpers to post raw bodies to it, and a scripted loopback server
to send one batch through the plugin and see what the core makes of the answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import orjson
import pytest

from deliverator import HttpClient, HttpResponse
from deliverator.testing import Judgement, RecordedRequest, ScriptedResponse, ScriptedServer, load_destination
from deliverator_amplitude import plugin
from deliverator_amplitude.emulator import Emulator, Faults

API_KEY = "amp-TOPSECRET-7c1e55d0c9"
"""A key distinctive enough that finding it in any text is a real leak, not a coincidence."""


@pytest.fixture(scope="module")
def http() -> Iterator[HttpClient]:
    """A real client (loopback answers at once)."""
    client = HttpClient()
    yield client
    client.close()


@pytest.fixture(scope="module")
def running() -> Iterator[Emulator]:
    """One emulator for the module (starting one per test costs socket shutdowns)."""
    with Emulator(api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def emu(running: Emulator) -> Iterator[Emulator]:
    """The module's emulator, emptied, with the faults the test sets (reset afterwards)."""
    running.clear()
    yield running
    running.faults = Faults()


def amp_event(number: int, **fields: Any) -> dict[str, Any]:
    """A valid HTTP V2 event for user ``user-<number>``."""
    event: dict[str, Any] = {
        "event_type": "Song Played",
        "user_id": f"user-{number:03d}",
        "insert_id": f"ins-{number:04d}",
        "time": 1_712_345_678_000 + number,
    }
    event.update(fields)
    return {key: value for key, value in event.items() if value is not None}


def upload(
    http: HttpClient,
    url: str,
    events: list[dict[str, Any]] | None = None,
    body: Any = None,
    api_key: str = API_KEY,
    **extra: Any,
) -> HttpResponse:
    """POST ``events`` (with ``api_key``) or a raw ``body`` (bytes sent as they are) to ``/2/httpapi``."""
    if body is None:
        body = {"api_key": api_key, "events": events or [], **extra}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return http.post(url + "/2/httpapi", body=data, headers={"Content-Type": "application/json"})


@pytest.fixture(name="amp_event")
def amp_event_fixture() -> Any:
    """Make a valid HTTP V2 event: ``amp_event(number, **fields)`` (a None field is left out)."""
    return amp_event


@pytest.fixture(name="upload")
def upload_fixture() -> Any:
    """``upload(http, url, events, body=None, api_key=..., **extra)``: POST to any base URL."""
    return upload


@pytest.fixture(name="post")
def post_fixture(http: HttpClient, emu: Emulator) -> Any:
    """POST to the module's emulator: ``post(events)`` or ``post(body=raw)``."""

    def post(events: list[dict[str, Any]] | None = None, body: Any = None, **extra: Any) -> HttpResponse:
        return upload(http, emu.url, events, body, **extra)

    return post


@pytest.fixture
def api_key() -> str:
    """The API key the module's emulator serves."""
    return API_KEY


@pytest.fixture
def upload_to(http: HttpClient) -> Any:
    """POST to any emulator: ``upload_to(emulator, events)`` or ``upload_to(emulator, body=raw)``."""

    def send(emulator: Emulator, events: list[dict[str, Any]] | None = None, body: Any = None) -> HttpResponse:
        return upload(http, emulator.url, events, body)

    return send


class Switchboard:
    """One scripted loopback server for the session, answering each test with the answer it
    loads (starting a server per test would cost most of these tests' time)."""

    def __init__(self) -> None:
        self.answer = ScriptedResponse()
        self.requests: list[RecordedRequest] = []
        self.server = ScriptedServer(self._respond)

    def _respond(self, request: RecordedRequest) -> ScriptedResponse:
        self.requests.append(request)
        return self.answer


@pytest.fixture(scope="session")
def switchboard() -> Iterator[Switchboard]:
    """The session's scripted server."""
    board = Switchboard()
    board.server.start()
    yield board
    board.server.stop()


@attrs.frozen(kw_only=True)
class Exchange:
    """One batch sent through the plugin to a scripted answer, and what the core made of it."""

    payloads: list[dict[str, Any]]
    requests: list[RecordedRequest]
    judgement: Judgement


def track_events(count: int) -> list[dict[str, Any]]:
    """``count`` distinct track events of users ``user-000`` ..."""
    return [
        {
            "type": "track",
            "userId": f"user-{n:03d}",
            "event": "Song Played",
            "messageId": f"msg-{n}",
            "timestamp": "2024-04-05T10:11:12.345Z",
        }
        for n in range(count)
    ]


@pytest.fixture
def exchange(switchboard: Switchboard, http: HttpClient) -> Any:
    """``exchange(status, body, events=None, **settings)``: build the payloads of ``events``
    (default: three track events), send them to a server answering ``status`` with ``body``
    (a value sent as JSON, or bytes as they are) and return what the core judged."""

    def send(status: int, body: Any = None, events: list[dict[str, Any]] | None = None, **settings: Any) -> Exchange:
        switchboard.answer = ScriptedResponse(status=status, body=body)
        switchboard.requests = []
        table = {"api_key": API_KEY, "endpoint": switchboard.server.url, **settings}
        destination = load_destination(plugin, table)
        payloads = [destination.build_payload(event) for event in (events or track_events(3))]
        response = destination.send_batch(payloads, http)
        judgement = destination.judge(payloads, response, None)
        return Exchange(payloads=payloads, requests=list(switchboard.requests), judgement=judgement)

    return send
