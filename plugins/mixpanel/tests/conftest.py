"""Fixtures for the Mixpanel plugin's tests: credentials distinctive enough that finding them
in any text is a real leak, a real HTTP client, and events and emulator requests built the
way the tests need them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from deliverator import HttpClient, HttpResponse
from deliverator_mixpanel.emulator import Emulator, Project

API_SECRET = "mp-secret-TOPSECRET-71c2e0"
SA_USER = "deliverator.sa.1234"
SA_SECRET = "sa-TOPSECRET-9b3f55aa"
TOKEN = "token-5f0c1e"
PROJECT = Project(
    project_id="2195",
    token=TOKEN,
    api_secret=API_SECRET,
    service_account_username=SA_USER,
    service_account_secret=SA_SECRET,
)


def settings_table(**overrides: Any) -> dict[str, Any]:
    """A ``[destination.settings]`` table as the config loader would pass it."""
    table: dict[str, Any] = {"api_secret": API_SECRET, "region": "us"}
    table.update(overrides)
    return {key: value for key, value in table.items() if value is not None}


def basic(user: str, password: str = "") -> str:
    """An ``Authorization`` header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def mp_event(number: int, **properties: Any) -> dict[str, Any]:
    """A valid ``/import`` event."""
    props: dict[str, Any] = {
        "time": 1_717_000_000_000 + number,
        "distinct_id": f"user-{number}",
        "$insert_id": f"id{number:030d}",
    }
    props.update(properties)
    return {"event": "Played", "properties": {key: value for key, value in props.items() if value is not None}}


def track(number: int, **fields: Any) -> dict[str, Any]:
    """A valid Segment track event."""
    event: dict[str, Any] = {
        "type": "track",
        "event": "Song Played",
        "userId": f"user-{number}",
        "messageId": f"msg-{number}",
        "timestamp": "2024-05-29T16:26:40.123Z",
        "properties": {"n": number},
    }
    event.update(fields)
    return {key: value for key, value in event.items() if value is not None}


@pytest.fixture
def http() -> Iterator[HttpClient]:
    """A real HTTP client (loopback answers at once)."""
    client = HttpClient()
    yield client
    client.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator per test module (cleared before each use by :func:`fresh`)."""
    with Emulator(project=PROJECT) as server:
        yield server


@pytest.fixture
def fresh(emulator: Emulator) -> Emulator:
    """The module's emulator, emptied, without faults."""
    from deliverator_mixpanel.emulator import Faults

    emulator.faults = Faults()
    emulator.clear()
    return emulator


def post(
    http: HttpClient,
    url: str,
    body: Any,
    *,
    path: str = "/import?strict=1",
    auth: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """POST ``body`` (bytes as given, else JSON) with the project secret unless told otherwise."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    sent = {"Authorization": auth or basic(API_SECRET), "Content-Type": "application/json", **(headers or {})}
    return http.post(url + path, body=data, headers=sent)
