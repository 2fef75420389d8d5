"""Invariants, checked with hypothesis: reading an answer never raises and gives one entry per
event or none; the emulator's checks never raise on any event; the throttle never lets a busy
id past its budget."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverator import HttpResponse
from deliverator.testing import FakeClock
from deliverator_amplitude.answers import item_results
from deliverator_amplitude.emulator.throttle import Throttle
from deliverator_amplitude.emulator.validation import check_event, check_request

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from(
    [
        "events_with_invalid_fields",
        "events_with_missing_fields",
        "events_with_invalid_id_lengths",
        "silenced_events",
        "throttled_events",
        "throttled_users",
        "throttled_devices",
        "exceeded_daily_quota_users",
        "eps_threshold",
        "error",
    ]
)
_bodies = st.one_of(
    _json.map(orjson.dumps),
    st.dictionaries(_keys, _json, max_size=4).map(orjson.dumps),
    st.binary(max_size=20),
)
PAYLOADS = [{"event_type": "x", "user_id": f"user-{n}", "insert_id": f"i{n}"} for n in range(3)]


@settings(max_examples=150)
@given(status=st.sampled_from([200, 400, 401, 413, 429, 500, 503]), body=_bodies)
def test_reading_an_answer_never_raises_and_is_complete_or_none(status: int, body: bytes) -> None:
    result = item_results(HttpResponse(status=status, body=body), PAYLOADS)
    assert result is None or len(result) == len(PAYLOADS)
    if result is not None and status == 400:
        assert result.error_count == len(PAYLOADS)  # nothing of a 400 was ingested


@given(
    event=st.dictionaries(
        st.sampled_from(
            ["event_type", "user_id", "device_id", "time", "insert_id", "user_properties", "event_properties", "ip"]
        ),
        _json,
        max_size=6,
    ),
    min_id_length=st.integers(1, 8),
)
def test_the_emulator_checks_any_event_without_raising(event: dict[str, Any], min_id_length: int) -> None:
    check = check_event(event, min_id_length)
    assert check.ok or check.invalid or check.missing or check.id_lengths
    assert check_request({"api_key": "k", "events": [event]}) is not None


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 6), st.floats(0, 0.6)), max_size=25))
def test_a_busy_id_never_gets_more_than_its_budget_once_it_has_events_in_the_window(
    requests: list[tuple[str, int, float]],
) -> None:
    clock = FakeClock()
    throttle = Throttle(events_per_second=5, window_s=1.0, clock=clock)
    admitted: list[tuple[float, str, int]] = []
    for user, count, pause in requests:
        clock.advance(pause)
        now = clock.monotonic()
        recent = sum(n for at, u, n in admitted if u == user and at > now - 1.0)
        verdict = throttle.admit([{"user_id": user}] * count)
        if verdict.throttled:
            assert recent and recent + count > 5
            assert verdict.events == tuple(range(count))
        else:
            assert not recent or recent + count <= 5
            admitted.append((now, user, count))
