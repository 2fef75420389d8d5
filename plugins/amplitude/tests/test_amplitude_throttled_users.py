"""A run with a throttled user, on one virtual clock shared by the run and the emulator: the
throttled user's events arrive at least 30 s after they were throttled, while the other users'
events, refused in the same requests, are sent again at once and never wait; the run is never
slowed down as a whole."""

from __future__ import annotations

from collections import Counter
from typing import Any

from deliverator.testing import FakeClock, deliver_events
from deliverator_amplitude.emulator import Emulator, Faults

KEY = "amp-throttle-test-key-0001"
HOT = "hot-user-0001"


def events() -> list[dict[str, Any]]:
    """60 tracks: every other one by the hot user, the rest by 30 users with one event each."""
    made = []
    for n in range(60):
        user = HOT if n % 2 == 0 else f"calm-user-{n:03d}"
        made.append({"type": "track", "event": "Song Played", "userId": user, "messageId": f"t-{n}"})
    return made


def run(url: str, clock: FakeClock) -> dict[int, dict[str, Any]]:
    outcomes = deliver_events(
        events(),
        destination="amplitude",
        settings={"api_key": KEY, "endpoint": url},
        error_handler={
            "max_retries": 10,
            "max_time": 600,
            "backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 0.01}],
        },
        clock=clock,
        batch_size=10,
        concurrency=1,
        linger_s=0.05,
    )
    return {o["index"]: o for o in outcomes}


def test_a_throttled_user_waits_30_s_and_the_others_do_not() -> None:
    clock = FakeClock()
    faults = Faults(user_events_per_second=5, throttle_window_s=1.0)
    with Emulator(api_key=KEY, faults=faults, clock=clock) as emulator:
        outcomes = run(emulator.url, clock)
        arrivals = emulator.arrivals()
        stats = emulator.stats()

    assert sorted(outcomes) == list(range(60))
    assert all(o["outcome"] == "delivered" for o in outcomes.values()), outcomes
    assert Counter(a.event["insert_id"] for a in arrivals) == Counter(o["sent"]["insert_id"] for o in outcomes.values())
    assert stats.events_throttled > 0  # the limit really bit
    assert clock.sleeps == []  # read per event: no sender was ever slowed down

    at = {a.event["insert_id"]: a.at for a in arrivals}
    hot = [o for o in outcomes.values() if o["sent"]["user_id"] == HOT]
    calm = [o for o in outcomes.values() if o["sent"]["user_id"] != HOT]
    # The calm users' events shared the throttled requests (they were sent again) but never waited.
    assert any(o["attempts"] > 1 for o in calm)
    assert all(at[o["sent"]["insert_id"]] < 1.0 for o in calm)
    # The hot user's first events fit the limit; every one that was throttled arrived 30 s or more later.
    throttled = [o for o in hot if o["attempts"] > 1]
    assert throttled and len(throttled) < len(hot)
    assert all(at[o["sent"]["insert_id"]] < 1.0 for o in hot if o["attempts"] == 1)
    for outcome in throttled:
        assert at[outcome["sent"]["insert_id"]] >= 30.0 * (outcome["attempts"] - 1)
