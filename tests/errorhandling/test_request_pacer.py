"""The request pacer: free when unthrottled, a shared token bucket (rate and burst) when
configured, and an adaptive slow-down on rate limiting that recovers on success. Virtual time throughout, except one
short real-clock test of thread safety."""

from __future__ import annotations

import threading
import time

import pytest

from deliverator._clock import FakeClock, RealClock
from deliverator._errorhandling import RequestPacer
from deliverator._errorhandling.pacing import DECREASE_COOLDOWN_S, MIN_RATE, RECOVERY_STEPS, TokenBucket


def test_unthrottled_acquire_never_sleeps_and_is_cheap() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    started = time.perf_counter()
    for _ in range(200_000):
        pacer.acquire()
    elapsed = time.perf_counter() - started
    assert clock.sleeps == []
    assert pacer.acquired_count == 200_000
    assert pacer.current_rate is None
    assert elapsed < 2.0  # ~0.05 s in practice: one attribute check and two increments


def test_configured_rate_spaces_requests_evenly_once_the_burst_is_spent() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=10, burst=1)
    for _ in range(50):
        pacer.acquire()
    assert clock.monotonic() == pytest.approx(4.9)
    assert clock.sleeps == pytest.approx([0.1] * 49)
    assert pacer.waited_seconds == pytest.approx(4.9)


def test_the_default_burst_is_one_seconds_worth_of_requests() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=10)
    assert pacer.burst == 10
    for _ in range(10):
        pacer.acquire()
    assert clock.sleeps == []
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(0.1)]
    assert RequestPacer(clock, max_requests_per_second=0.2).burst == 1


def test_idle_time_builds_up_at_most_the_burst() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=2, burst=3)
    for _ in range(3):
        pacer.acquire()
    assert clock.sleeps == []
    clock.advance(60)  # would be 120 tokens without the cap
    for _ in range(4):
        pacer.acquire()
    assert clock.sleeps == [pytest.approx(0.5)]


def test_over_a_long_run_the_rate_is_exact_whatever_the_burst() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=25, burst=40)
    for _ in range(1_040):
        pacer.acquire()
    assert clock.monotonic() == pytest.approx(1_000 / 25)


def test_a_partly_refilled_bucket_waits_only_for_the_missing_fraction() -> None:
    bucket = TokenBucket(rate=4, capacity=2, now=0.0)
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.125) == pytest.approx(0.125)  # half a token earned, half missing
    assert bucket.reserve(0.125) == pytest.approx(0.375)  # in debt: waits behind the previous one


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (1, 0.5), (float("nan"), 1)])
def test_a_bucket_without_rate_or_room_for_one_request_is_refused(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate, capacity, now=0.0)


def test_a_burst_below_one_request_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        RequestPacer(FakeClock(), max_requests_per_second=5, burst=0.5)


def test_configured_rate_is_shared_by_all_threads() -> None:
    pacer = RequestPacer(RealClock(), max_requests_per_second=200, burst=1)
    started = time.monotonic()

    def send_ten() -> None:
        for _ in range(10):
            pacer.acquire()

    threads = [threading.Thread(target=send_ten) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 39 / 200 - 0.01
    assert pacer.acquired_count == 40


def _run_at(pacer: RequestPacer, clock: FakeClock, requests: int, spacing: float) -> None:
    for _ in range(requests):
        pacer.acquire()
        clock.advance(spacing)


def test_rate_limiting_halves_the_observed_rate_for_every_sender() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    _run_at(pacer, clock, 100, 0.1)  # 10 requests/s observed
    pacer.on_rate_limited()
    assert pacer.current_rate == pytest.approx(5.0)
    assert pacer.rate_limited_count == 1 and pacer.slowdown_count == 1
    pacer.acquire()
    pacer.acquire()
    assert clock.sleeps == pytest.approx([0.2, 0.2])  # no burst while slowed down


def test_rate_limited_answers_already_in_flight_slow_down_only_once() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    _run_at(pacer, clock, 100, 0.1)
    for _ in range(4):
        pacer.on_rate_limited()
    assert pacer.current_rate == pytest.approx(5.0)
    assert pacer.rate_limited_count == 4 and pacer.slowdown_count == 1
    clock.advance(DECREASE_COOLDOWN_S)
    pacer.on_rate_limited()
    assert pacer.current_rate == pytest.approx(2.5)


def test_successes_recover_additively_back_to_unthrottled() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    _run_at(pacer, clock, 100, 0.1)
    pacer.on_rate_limited()
    rates = []
    for _ in range(RECOVERY_STEPS):
        pacer.on_success()
        rates.append(pacer.current_rate)
    climbing = [r for r in rates if r is not None]
    assert climbing == sorted(climbing) and len(set(climbing)) == len(climbing)
    assert climbing[1] - climbing[0] == pytest.approx(climbing[2] - climbing[1])
    assert rates[-1] is None
    sleeps_before = len(clock.sleeps)
    pacer.acquire()
    assert len(clock.sleeps) == sleeps_before


def test_recovery_returns_to_the_configured_rate_never_above() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=8)
    pacer.on_rate_limited()
    assert pacer.current_rate == pytest.approx(4.0)
    for _ in range(RECOVERY_STEPS * 3):
        pacer.on_success()
        assert pacer.current_rate is not None and pacer.current_rate <= 8
    assert pacer.current_rate == 8


def test_rate_limiting_spends_the_saved_burst_and_recovery_restores_it() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=8, burst=8)
    pacer.on_rate_limited()
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(0.25)]  # the 8 saved requests are gone: 4/s, one at a time
    for _ in range(RECOVERY_STEPS):
        pacer.on_success()
    assert pacer.current_rate == 8
    clock.advance(10)
    for _ in range(8):
        pacer.acquire()
    assert len(clock.sleeps) == 1  # the configured burst is back


def test_repeated_rate_limiting_never_goes_below_the_floor() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=4)
    for _ in range(20):
        pacer.on_rate_limited()
        clock.advance(DECREASE_COOLDOWN_S)
    assert pacer.current_rate == MIN_RATE
    assert pacer.slowdown_count == 20


def test_success_without_rate_limiting_changes_nothing() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=3)
    for _ in range(10):
        pacer.on_success()
    assert pacer.current_rate == 3


@pytest.mark.parametrize("rate", [0, -1.0, float("nan")])
def test_a_rate_that_is_not_positive_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second"):
        RequestPacer(FakeClock(), max_requests_per_second=rate)


def test_without_slow_down_rate_limiting_is_counted_and_the_rate_kept() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, max_requests_per_second=8, slow_down=False)
    pacer.on_rate_limited()
    assert pacer.rate_limited_count == 1 and pacer.slowdown_count == 0
    assert pacer.current_rate == 8
