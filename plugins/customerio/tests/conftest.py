"""Fixtures for the Customer.io plugin's tests: the plugin behind the core's typed facade, a
real HTTP client, and a way to send one batch to a scripted loopback server and get back what
the core would see (the classification and, on SUCCESS, the per-item results)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import orjson
import pytest

from deliverator import Classification, HttpClient, HttpSettings, MultiStatusResponse
from deliverator.testing import Destination, RecordedRequest, ScriptedResponse, ScriptedServer, load_destination
from deliverator_customerio import plugin

SITE_ID = "site-123"
API_KEY = "sk-live-TOPSECRET-4f1c9b"
"""A key distinctive enough that finding it in any text is a real leak, not a coincidence."""


def settings_table(**overrides: Any) -> dict[str, Any]:
    """A ``[destination.settings]`` table as the config loader would pass it."""
    table: dict[str, Any] = {"site_id": SITE_ID, "api_key": API_KEY, "region": "us"}
    table.update(overrides)
    return table


@pytest.fixture
def make_destination() -> Callable[..., Destination]:
    """Build the Customer.io destination from a settings table (overrides as keywords)."""

    def make(**overrides: Any) -> Destination:
        return load_destination(plugin, settings_table(**overrides))

    return make


@pytest.fixture
def http() -> Iterator[HttpClient]:
    """A real client with short timeouts (loopback answers at once)."""
    client = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=2.0))
    yield client
    client.close()


@attrs.frozen(kw_only=True)
class Exchange:
    """One batch sent through the plugin: what went over the wire and what the core sees."""

    payloads: list[dict[str, Any]]
    requests: list[RecordedRequest]
    classification: Classification
    results: MultiStatusResponse | None
    """Per-item results, present only when the classification is SUCCESS (as in the core's
    ``Destination.judge``)."""


Send = Callable[..., Exchange]


class Switchboard:
    """One real loopback server for the whole session, answering each test from that test's
    script (a list of answers served in order, the last one repeating). Starting a server per
    test would cost most of these tests' time in socket shutdowns."""

    def __init__(self) -> None:
        self._script: list[ScriptedResponse] = [ScriptedResponse()]
        self._served = 0
        self.requests: list[RecordedRequest] = []
        self.server = ScriptedServer(self._answer)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def load(self, script: ScriptedResponse | Sequence[ScriptedResponse]) -> Switchboard:
        """Answer the next requests from ``script`` and forget earlier requests."""
        self._script = [script] if isinstance(script, ScriptedResponse) else list(script)
        self._served = 0
        self.requests = []
        return self

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        self.requests.append(request)
        chosen = self._script[min(self._served, len(self._script) - 1)]
        self._served += 1
        return chosen


@pytest.fixture(scope="session")
def switchboard() -> Iterator[Switchboard]:
    """The session's scripted server (load a script with ``service``)."""
    board = Switchboard()
    board.server.start()
    yield board
    board.server.stop()


@pytest.fixture
def service(switchboard: Switchboard) -> Callable[..., Switchboard]:
    """Load this test's script into the shared server and return it."""
    return switchboard.load


@pytest.fixture
def send_batch(
    make_destination: Callable[..., Destination], http: HttpClient, service: Callable[..., Switchboard]
) -> Send:
    """Send ``payloads`` (default: three track items) to a server answering ``response``."""

    def send(
        response: ScriptedResponse | Sequence[ScriptedResponse],
        payloads: Sequence[Mapping[str, Any]] | None = None,
        **overrides: Any,
    ) -> Exchange:
        server = service(response)
        destination = make_destination(endpoint=server.url, **overrides)
        items = (
            [dict(p) for p in payloads]
            if payloads is not None
            else [destination.build_payload(event) for event in sample_events(3)]
        )
        answer = destination.send_batch(items, http)
        judgement = destination.judge(items, answer, None)
        return Exchange(
            payloads=items,
            requests=list(server.requests),
            classification=judgement.classification,
            results=judgement.statuses,
        )

    return send


def sample_events(count: int) -> list[dict[str, Any]]:
    """``count`` distinct track events."""
    return [
        {
            "type": "track",
            "userId": f"user-{n}",
            "event": "Order Completed",
            "messageId": f"msg-{n}",
            "timestamp": "2024-04-05T10:11:12.345Z",
            "properties": {"order": n},
        }
        for n in range(count)
    ]


@pytest.fixture(params=["object", "string"])
def body_form(request: pytest.FixtureRequest) -> Callable[..., ScriptedResponse]:
    """A scripted answer whose JSON body arrives either as a JSON object (application/json) or
    as a JSON string holding that JSON (text/plain), as Customer.io sometimes sends it."""

    def answer(status: int, value: Any, headers: Mapping[str, str] | None = None) -> ScriptedResponse:
        if request.param == "object":
            return ScriptedResponse(status=status, body=orjson.dumps(value), headers=dict(headers or {}))
        as_string = orjson.dumps(orjson.dumps(value).decode())
        return ScriptedResponse(
            status=status, body=as_string, headers={"Content-Type": "text/plain", **(headers or {})}
        )

    return answer


@pytest.fixture
def api_key() -> str:
    """The API key every destination in these tests is configured with."""
    return API_KEY


@pytest.fixture
def site_id() -> str:
    """The Site ID every destination in these tests is configured with."""
    return SITE_ID


@pytest.fixture(name="sample_events")
def sample_events_fixture() -> Callable[[int], list[dict[str, Any]]]:
    """Make ``count`` distinct track events."""
    return sample_events
