"""Fixtures for the Amplitude plugin's tests: a real HTTP client, one emulator per module
(emptied for each test), and helpers to post raw bodies to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from deliverator import HttpClient, HttpResponse
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
    http: HttpClient, url: str, events: list[dict[str, Any]] | None = None, body: Any = None, **extra: Any
) -> HttpResponse:
    """POST ``events`` (with the test key) or a raw ``body`` (bytes sent as they are) to ``/2/httpapi``."""
    if body is None:
        body = {"api_key": API_KEY, "events": events or [], **extra}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return http.post(url + "/2/httpapi", body=data, headers={"Content-Type": "application/json"})


@pytest.fixture(name="amp_event")
def amp_event_fixture() -> Any:
    """Make a valid HTTP V2 event: ``amp_event(number, **fields)`` (a None field is left out)."""
    return amp_event


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
