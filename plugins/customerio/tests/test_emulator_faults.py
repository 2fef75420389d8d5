"""Each injected fault over real HTTP: rate limiting (every Nth, per second), 5xx, latency,
dropped connections, lost answers, string bodies, redirects; and that faults are reproducible
and can change while the emulator runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from deliverator import HttpClient, HttpSettings, TransportError
from deliverator.testing import FakeClock
from deliverator_customerio.emulator import Emulator, EmulatorClient, Faults


@pytest.fixture(scope="module")
def http() -> Iterator[HttpClient]:
    client = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=5.0))
    yield client
    client.close()


@pytest.fixture(scope="module")
def running() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emu(running: Emulator) -> Iterator[Emulator]:
    """The module's emulator, emptied, with the faults the test sets (reset afterwards)."""
    running.clear()
    yield running
    running.faults = Faults()


@pytest.fixture
def api(emu: Emulator, http: HttpClient) -> EmulatorClient:
    return emu.client(http)


def event(number: int, **fields: Any) -> dict[str, Any]:
    item = {
        "type": "person",
        "action": "event",
        "identifiers": {"id": f"user-{number}"},
        "name": "Order Completed",
        "id": f"01HTZ8W6QK3V4J9X2M5N7P{number:04d}",
        "timestamp": 1712345678,
    }
    item.update(fields)
    return item


def test_every_nth_request_is_rate_limited_with_retry_after(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(rate_limit_every=3, retry_after_s=7)
    responses = [api.batch([event(n)]) for n in range(6)]
    assert [r.status for r in responses] == [200, 200, 429, 200, 200, 429]
    assert responses[2].headers["Retry-After"] == "7"
    assert "retry after 7 s" in responses[2].json()["errors"][0]["message"]
    assert [item["id"] for item in emu.accepted()] == [event(n)["id"] for n in (0, 1, 3, 4)]


def test_requests_over_the_per_second_budget_wait_for_the_next_second(http: HttpClient) -> None:
    clock = FakeClock()
    clock.advance(0.25)
    with Emulator(faults=Faults(rate_limit_per_second=2), clock=clock) as emulator:
        api = emulator.client(http)
        statuses = [api.batch([event(n)]).status for n in range(3)]
        refused = api.batch([event(9)])
        clock.advance(1.0)
        next_second = api.batch([event(10)]).status
    assert statuses == [200, 200, 429]
    assert refused.headers["Retry-After"] == "1"
    assert next_second == 200


def test_error_ratio_one_answers_the_error_status_and_accepts_nothing(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(error_ratio=1.0, error_status=502)
    response = api.batch([event(1)])
    assert response.status == 502
    assert emu.accepted_count() == 0 and emu.received_ids() == {}


def statuses_with(faults: Faults, http: HttpClient, count: int = 40) -> list[int]:
    with Emulator(faults=faults) as emulator:
        api = emulator.client(http)
        return [api.batch([event(n)]).status for n in range(count)]


def test_random_faults_repeat_exactly_for_the_same_seed(http: HttpClient) -> None:
    faults = Faults(error_ratio=0.3, seed=11)
    first = statuses_with(faults, http)
    assert first == statuses_with(faults, http)
    assert 0 < first.count(503) < len(first)
    assert first != statuses_with(Faults(error_ratio=0.3, seed=12), http)


def test_latency_waits_on_the_emulators_clock(http: HttpClient) -> None:
    clock = FakeClock()
    with Emulator(faults=Faults(latency_s=2.5), clock=clock) as emulator:
        assert emulator.client(http).batch([event(1)]).status == 200
    assert clock.sleeps == [2.5]


def test_latency_really_delays_the_answer_with_the_real_clock(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(latency_s=0.05)
    started = time.monotonic()
    assert api.batch([event(1)]).status == 200
    assert time.monotonic() - started >= 0.05


def test_dropped_connection_gives_no_answer_and_keeps_nothing(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(drop_ratio=1.0)
    with pytest.raises(TransportError):
        api.batch([event(1)])
    assert emu.accepted_count() == 0
    assert emu.stats().dropped == 1


def test_lost_answer_keeps_the_items_and_a_resend_is_deduplicated(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(lose_answer_ratio=1.0)
    with pytest.raises(TransportError):
        api.batch([event(1), event(2)])
    assert emu.accepted_count() == 2
    emu.faults = Faults()
    assert api.batch([event(1), event(2)]).status == 200
    assert emu.accepted_count() == 2
    assert set(emu.received_ids().values()) == {2}


@pytest.mark.parametrize(
    ("items", "status", "value"),
    [
        ([event(1)], 200, {}),
        ([event(1, name="")], 207, {"errors": [{"batch_index": 0, "reason": "required", "field": "name"}]}),
    ],
)
def test_string_bodies_wrap_the_json_answer_in_a_json_string(
    emu: Emulator, api: EmulatorClient, items: list[Any], status: int, value: dict[str, Any]
) -> None:
    emu.faults = Faults(string_bodies=True)
    response = api.batch(items)
    assert response.status == status
    wrapped = response.json()
    assert isinstance(wrapped, str)
    unwrapped = orjson.loads(wrapped)
    for entry in unwrapped.get("errors", []):
        entry.pop("message")
    assert unwrapped == value


def test_string_bodies_leave_whole_request_errors_as_objects(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(string_bodies=True)
    assert isinstance(api.post("/api/v2/batch", b"nope").json(), dict)


def test_redirect_points_the_same_path_at_the_other_host_and_keeps_nothing(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(redirect_to="https://track-eu.customer.io/")
    response = api.batch([event(1)])
    assert response.status == 307
    assert response.headers["Location"] == "https://track-eu.customer.io/api/v2/batch"
    assert emu.accepted_count() == 0


def test_region_check_is_never_faulted(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(error_ratio=1.0, drop_ratio=1.0, rate_limit_every=1)
    assert api.region().status == 200


def test_faults_change_while_the_emulator_runs(emu: Emulator, api: EmulatorClient) -> None:
    emu.faults = Faults(error_ratio=1.0)
    assert api.batch([event(1)]).status == 503
    emu.faults = Faults()
    assert api.batch([event(1)]).status == 200
    assert emu.faults == Faults()


def test_faults_are_applied_before_credentials_are_checked(emu: Emulator, http: HttpClient) -> None:
    emu.faults = Faults(rate_limit_every=1)
    assert emu.client(http, api_key="wrong").batch([event(1)]).status == 429


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"drop_ratio": 1.5}, "drop_ratio"),
        ({"error_ratio": -0.1}, "error_ratio"),
        ({"lose_answer_ratio": "half"}, "lose_answer_ratio"),
        ({"error_status": 404}, "error_status"),
        ({"rate_limit_every": -1}, "rate_limit_every"),
        ({"rate_limit_per_second": 2.5}, "rate_limit_per_second"),
        ({"retry_after_s": True}, "retry_after_s"),
        ({"latency_s": -1}, "latency_s"),
        ({"latency_s": float("inf")}, "latency_s"),
        ({"redirect_to": "track-eu.customer.io"}, "redirect_to"),
    ],
)
def test_nonsense_fault_values_are_refused_naming_the_field(fields: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Faults(**fields)


def test_describe_lists_only_the_faults_that_are_set() -> None:
    assert Faults().describe() == "none"
    assert Faults(rate_limit_every=5).describe() == "rate_limit_every=5"
    assert Faults(error_ratio=0.5, seed=3).describe() == "error_ratio=0.5, seed=3"
