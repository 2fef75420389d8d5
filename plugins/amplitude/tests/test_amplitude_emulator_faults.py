"""Each injected fault over real HTTP: the per-user and per-device limit (on a virtual clock),
5xx before or after ingesting, latency; faults are reproducible and can change while the
emulator runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deliverator.testing import FakeClock
from deliverator_amplitude.emulator import Emulator, Faults


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(clock: FakeClock, api_key: str) -> Iterator[Emulator]:
    """An emulator allowing 5 events/s per user or device over a 1 s window, on ``clock``."""
    with Emulator(api_key=api_key, faults=Faults(user_events_per_second=5), clock=clock) as emulator:
        yield emulator


def test_a_user_over_the_limit_is_throttled_and_nothing_is_ingested(
    limited: Emulator, upload_to: Any, amp_event: Any
) -> None:
    hot = [amp_event(n, user_id="hot-user") for n in range(4)]
    assert upload_to(limited, hot).status == 200
    response = upload_to(limited, [amp_event(10), *[amp_event(n, user_id="hot-user") for n in (4, 5)]])
    assert response.status == 429
    assert "Retry-After" not in response.headers
    body = response.json()
    assert body["error"] == "Too many requests for some devices and users"
    assert body["eps_threshold"] == 5
    assert body["throttled_users"] == {"hot-user": 6.0}
    assert body["throttled_devices"] == {}
    assert body["throttled_events"] == [1, 2]
    assert limited.kept_count() == 4
    assert limited.stats().events_throttled == 2


def test_the_first_request_of_a_quiet_window_always_passes(limited: Emulator, upload_to: Any, amp_event: Any) -> None:
    response = upload_to(limited, [amp_event(n, user_id="hot-user") for n in range(50)])
    assert response.status == 200


def test_the_limit_is_per_user_and_per_device(limited: Emulator, upload_to: Any, amp_event: Any) -> None:
    upload_to(limited, [amp_event(n, user_id=None, device_id="phone-1") for n in range(5)])
    others = [amp_event(n) for n in range(20, 30)]
    assert upload_to(limited, others).status == 200
    response = upload_to(limited, [amp_event(40, user_id=None, device_id="phone-1")])
    assert response.json()["throttled_devices"] == {"phone-1": 6.0}


def test_a_throttled_user_is_admitted_once_the_window_has_passed(
    limited: Emulator, upload_to: Any, clock: FakeClock, amp_event: Any
) -> None:
    upload_to(limited, [amp_event(n, user_id="hot-user") for n in range(5)])
    assert upload_to(limited, [amp_event(5, user_id="hot-user")]).status == 429
    clock.advance(0.99)
    assert upload_to(limited, [amp_event(5, user_id="hot-user")]).status == 429
    clock.advance(0.01)
    assert upload_to(limited, [amp_event(5, user_id="hot-user")]).status == 200
    arrivals = {a.event["insert_id"]: a.at for a in limited.arrivals()}
    assert arrivals["ins-0005"] == pytest.approx(1.0)
    assert arrivals["ins-0000"] == 0.0


def test_a_5xx_fault_ingests_nothing(emu: Emulator, post: Any, amp_event: Any) -> None:
    emu.faults = Faults(error_ratio=1.0, error_status=502)
    response = post([amp_event(1)])
    assert response.status == 502
    assert emu.kept_count() == 0


def test_accept_then_error_ingests_and_answers_500(emu: Emulator, post: Any, amp_event: Any) -> None:
    emu.faults = Faults(accept_then_error_ratio=1.0)
    assert post([amp_event(1)]).status == 500
    emu.faults = Faults()
    assert post([amp_event(1)]).status == 200
    assert emu.kept_count() == 1
    assert emu.stats().duplicates == 1


def test_latency_waits_on_the_emulator_clock(upload_to: Any, clock: FakeClock, api_key: str, amp_event: Any) -> None:
    with Emulator(api_key=api_key, faults=Faults(latency_s=2.5), clock=clock) as emulator:
        assert upload_to(emulator, [amp_event(1)]).status == 200
    assert clock.sleeps == [2.5]


def test_random_faults_repeat_for_a_seed(emu: Emulator, post: Any, amp_event: Any) -> None:
    def statuses() -> list[int]:
        emu.faults = Faults(error_ratio=0.5, seed=11)
        return [post([amp_event(n, insert_id=None)]).status for n in range(20)]

    first = statuses()
    assert first == statuses()
    assert {200, 503} == set(first)


def test_faults_describe_what_is_set() -> None:
    assert Faults().describe() == "none"
    assert Faults(user_events_per_second=30, error_ratio=0.1).describe() == (
        "error_ratio=0.1, user_events_per_second=30, seed=0"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"error_ratio": 1.5},
        {"error_status": 404},
        {"latency_s": -1},
        {"throttle_window_s": 0},
        {"user_events_per_second": -2},
    ],
)
def test_bad_fault_values_are_refused_naming_the_field(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        Faults(**fields)
