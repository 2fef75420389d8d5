"""The retry policy: strategy order, the default waits, Retry-After as a minimum, the
max_time cap and the give-up messages. All on a FakeClock: nothing here really sleeps."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverator._clock import FakeClock
from deliverator._errorhandling import (
    ConstantBackoff,
    ErrorHandlerConfig,
    ExponentialBackoff,
    RetryPolicy,
    WaitDecision,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
    parse_error_handler,
)
from deliverator._errorhandling.backoff import BackoffStrategy
from deliverator._http import HttpClient, TransportError
from deliverator.testing import ScriptedResponse, ScriptedServer
from tests.errorhandling.helpers import response


def policy(clock: FakeClock, *strategies: BackoffStrategy, max_time: float = 600.0, seed: int = 0) -> RetryPolicy:
    config = ErrorHandlerConfig(max_time=max_time, backoff_strategies=strategies)
    return RetryPolicy(config, clock, rng=random.Random(seed))


def run_waits(p: RetryPolicy, clock: FakeClock, resp: object = None, retries: int = 5) -> list[WaitDecision]:
    """Ask for ``retries`` waits in a row, sleeping each one on the fake clock."""
    first = clock.monotonic()
    decisions = []
    for number in range(1, retries + 1):
        decision = p.next_wait(retry_number=number, response=resp, error=None, first_attempt_at=first)  # type: ignore[arg-type]  # test responses are typed loosely
        decisions.append(decision)
        clock.sleep(decision.seconds)
    return decisions


def test_without_strategies_waits_are_1_2_4_8_16_seconds() -> None:
    clock = FakeClock()
    assert [d.seconds for d in run_waits(policy(clock), clock, response(500))] == [1, 2, 4, 8, 16]
    assert clock.sleeps == [1, 2, 4, 8, 16]


def test_exponential_declared_without_factor_uses_airbytes_factor_5() -> None:
    clock = FakeClock()
    config = parse_error_handler({"backoff_strategies": [{"type": "exponential"}]})
    decisions = run_waits(RetryPolicy(config, clock), clock, response(503))
    assert [d.seconds for d in decisions] == [10, 20, 40, 80, 160]


def test_first_strategy_with_an_answer_wins() -> None:
    clock = FakeClock()
    p = policy(clock, WaitTimeFromHeader(header="X-Wait"), ConstantBackoff(backoff_time_in_seconds=7))
    with_header = response(503, headers={"X-Wait": "3"})
    without_header = response(503)
    first = clock.monotonic()
    assert p.next_wait(retry_number=1, response=with_header, error=None, first_attempt_at=first) == WaitDecision(3.0)
    assert p.next_wait(retry_number=1, response=without_header, error=None, first_attempt_at=first) == WaitDecision(7.0)


def test_header_strategies_without_their_header_fall_back_to_the_default_waits() -> None:
    clock = FakeClock()
    p = policy(clock, WaitTimeFromHeader(header="X-Wait"), WaitUntilTimeFromHeader(header="X-Reset"))
    assert [d.seconds for d in run_waits(p, clock, response(502))] == [1, 2, 4, 8, 16]


def test_a_transport_error_uses_the_strategies_too() -> None:
    clock = FakeClock()
    p = policy(clock, ConstantBackoff(backoff_time_in_seconds=4))
    decision = p.next_wait(
        retry_number=1, response=None, error=TransportError("timeout", "timed out"), first_attempt_at=0.0
    )
    assert decision == WaitDecision(4.0)


@pytest.mark.parametrize(
    ("retry_after", "strategy_wait", "expected"),
    [
        ("30", 1.0, 30.0),
        ("30", 45.0, 45.0),
        ("0", 5.0, 5.0),
        ("2.5", 1.0, 2.5),
    ],
    ids=["server-longer", "strategy-longer", "zero", "decimal"],
)
def test_retry_after_seconds_is_a_minimum(retry_after: str, strategy_wait: float, expected: float) -> None:
    clock = FakeClock()
    p = policy(clock, ConstantBackoff(backoff_time_in_seconds=strategy_wait))
    decision = p.next_wait(
        retry_number=1, response=response(429, headers={"Retry-After": retry_after}), error=None, first_attempt_at=0.0
    )
    assert decision == WaitDecision(expected)


def test_retry_after_http_date_is_read_against_the_wall_clock() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    when = formatdate(1_700_000_000.0 + 90, usegmt=True)
    decision = policy(clock).next_wait(
        retry_number=1, response=response(503, headers={"Retry-After": when}), error=None, first_attempt_at=0.0
    )
    assert decision == WaitDecision(90.0)


def test_retry_after_date_in_the_past_adds_no_wait() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    when = formatdate(1_700_000_000.0 - 90, usegmt=True)
    decision = policy(clock).next_wait(
        retry_number=3, response=response(503, headers={"Retry-After": when}), error=None, first_attempt_at=0.0
    )
    assert decision == WaitDecision(4.0)


def test_unreadable_retry_after_is_ignored() -> None:
    clock = FakeClock()
    decision = policy(clock).next_wait(
        retry_number=1,
        response=response(429, headers={"Retry-After": "later please"}),
        error=None,
        first_attempt_at=0.0,
    )
    assert decision == WaitDecision(1.0)


def test_retry_after_longer_than_what_is_left_gives_up_saying_so() -> None:
    clock = FakeClock()
    clock.advance(590)
    decision = policy(clock, max_time=600).next_wait(
        retry_number=2, response=response(429, headers={"Retry-After": "30"}), error=None, first_attempt_at=0.0
    )
    assert decision.give_up is not None
    assert "Retry-After" in decision.give_up and "30.0 s" in decision.give_up and "10.0 s" in decision.give_up


def test_retry_after_even_a_429_respects_max_time() -> None:
    # Airbyte retries 429s without looking at max_time; here one deadline holds for every cause.
    clock = FakeClock()
    p = policy(clock, max_time=20)
    rate_limited = response(429, headers={"Retry-After": "8"})
    decisions = run_waits(p, clock, rate_limited, retries=5)
    assert [d.seconds for d in decisions[:2]] == [8, 8]
    assert decisions[2].give_up is not None
    assert clock.monotonic() <= 20


def test_strategy_wait_is_capped_by_what_is_left_of_max_time() -> None:
    clock = FakeClock()
    clock.advance(95)
    decision = policy(clock, ConstantBackoff(backoff_time_in_seconds=60), max_time=100).next_wait(
        retry_number=1, response=response(500), error=None, first_attempt_at=0.0
    )
    assert decision == WaitDecision(5.0)


def test_server_header_strategy_wait_is_capped_by_max_time_too() -> None:
    clock = FakeClock()
    p = policy(clock, WaitTimeFromHeader(header="X-Wait"), max_time=100)
    decision = p.next_wait(
        retry_number=1, response=response(429, headers={"X-Wait": "500"}), error=None, first_attempt_at=0.0
    )
    assert decision == WaitDecision(100.0)


def test_no_time_left_gives_up_naming_max_time() -> None:
    clock = FakeClock()
    clock.advance(600)
    decision = policy(clock).next_wait(retry_number=1, response=response(500), error=None, first_attempt_at=0.0)
    assert decision.give_up is not None and "max_time of 600 s" in decision.give_up
    assert decision.seconds == 0


def test_strategy_give_up_is_passed_on() -> None:
    clock = FakeClock()
    p = policy(clock, WaitTimeFromHeader(header="Retry-After", max_waiting_time_in_seconds=10))
    decision = p.next_wait(
        retry_number=1, response=response(429, headers={"Retry-After": "3600"}), error=None, first_attempt_at=0.0
    )
    assert decision.give_up is not None and "max_waiting_time_in_seconds" in decision.give_up


def test_max_time_zero_never_waits() -> None:
    clock = FakeClock()
    decision = policy(clock, max_time=0).next_wait(
        retry_number=1, response=response(500), error=None, first_attempt_at=0.0
    )
    assert decision.give_up is not None


@pytest.mark.parametrize(("max_retries", "allowed"), [(0, []), (1, [1]), (5, [1, 2, 3, 4, 5])])
def test_allows_retry_counts_retries_after_the_first_attempt(max_retries: int, allowed: list[int]) -> None:
    p = RetryPolicy(ErrorHandlerConfig(max_retries=max_retries), FakeClock())
    assert [n for n in range(1, 8) if p.allows_retry(n)] == allowed


def test_retry_after_from_a_real_server_is_honoured() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    script = [ScriptedResponse(status=429, headers={"Retry-After": "12"}, body={"message": "slow down"})]
    with ScriptedServer(script) as server:
        http = HttpClient()
        try:
            answer = http.post(server.url + "/batch", body=b"{}")
        finally:
            http.close()
    decision = policy(clock).next_wait(retry_number=1, response=answer, error=None, first_attempt_at=0.0)
    assert decision == WaitDecision(12.0)


# --- invariants -------------------------------------------------------------------------

header_values = st.one_of(
    st.integers(min_value=-10, max_value=10**7).map(str),
    st.floats(min_value=0, max_value=1e9, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.integers(min_value=1_600_000_000, max_value=1_800_000_000).map(lambda t: formatdate(t, usegmt=True)),
    st.text(max_size=12),
)
strategy_lists = st.lists(
    st.one_of(
        st.builds(
            ConstantBackoff, backoff_time_in_seconds=st.floats(0, 1e6), jitter_range_in_seconds=st.floats(0, 100)
        ),
        st.builds(ExponentialBackoff, factor=st.floats(0, 1e3), jitter_range_in_seconds=st.floats(0, 100)),
        st.builds(WaitTimeFromHeader, header=st.just("X-Wait")),
        st.builds(
            WaitUntilTimeFromHeader,
            header=st.just("X-Reset"),
            min_wait=st.floats(0, 1e4),
            max_waiting_time_in_seconds=st.none() | st.floats(1, 1e5),
        ),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    strategies=strategy_lists,
    max_time=st.floats(min_value=0, max_value=10_000),
    elapsed=st.floats(min_value=0, max_value=20_000),
    retry_number=st.integers(min_value=-3, max_value=5_000),
    headers=st.dictionaries(st.sampled_from(["Retry-After", "X-Wait", "X-Reset"]), header_values, max_size=3),
    status=st.sampled_from([200, 408, 429, 500, 503]),
    seed=st.integers(0, 2**16),
)
def test_wait_is_never_negative_and_never_runs_past_max_time(
    strategies: list[BackoffStrategy],
    max_time: float,
    elapsed: float,
    retry_number: int,
    headers: dict[str, str],
    status: int,
    seed: int,
) -> None:
    clock = FakeClock()
    clock.advance(elapsed)
    p = policy(clock, *strategies, max_time=max_time, seed=seed)
    decision = p.next_wait(
        retry_number=retry_number, response=response(status, headers=headers), error=None, first_attempt_at=0.0
    )
    assert decision.seconds >= 0
    if decision.give_up is None:
        assert elapsed + decision.seconds <= max_time
        assert elapsed < max_time
    else:
        assert decision.seconds == 0


@settings(max_examples=100, deadline=None)
@given(
    retry_after=st.integers(min_value=0, max_value=5_000),
    max_time=st.floats(min_value=1, max_value=10_000),
    elapsed=st.floats(min_value=0, max_value=10_000),
)
def test_retry_after_is_honoured_or_the_retry_is_abandoned(retry_after: int, max_time: float, elapsed: float) -> None:
    clock = FakeClock()
    clock.advance(elapsed)
    decision = policy(clock, max_time=max_time).next_wait(
        retry_number=1,
        response=response(429, headers={"Retry-After": str(retry_after)}),
        error=None,
        first_attempt_at=0.0,
    )
    assert decision.give_up is not None or decision.seconds >= retry_after


@settings(max_examples=50, deadline=None)
@given(
    strategies=strategy_lists,
    max_time=st.floats(min_value=0, max_value=5_000),
    statuses=st.lists(st.sampled_from([429, 500, 503]), min_size=1, max_size=30),
    retry_after=st.none() | st.integers(0, 300),
)
def test_a_whole_retry_sequence_ends_within_max_time(
    strategies: list[BackoffStrategy], max_time: float, statuses: list[int], retry_after: int | None
) -> None:
    clock = FakeClock()
    p = policy(clock, *strategies, max_time=max_time)
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    for number, status in enumerate(statuses, start=1):
        decision = p.next_wait(
            retry_number=number, response=response(status, headers=headers), error=None, first_attempt_at=0.0
        )
        if decision.give_up is not None:
            break
        clock.sleep(decision.seconds)
    assert clock.monotonic() <= max_time


def test_the_cap_survives_floating_point_rounding() -> None:
    # Found by hypothesis: elapsed + (max_time - elapsed) can exceed max_time by one ulp.
    clock = FakeClock()
    clock.advance(1.661842841687303)
    decision = policy(clock, max_time=4097.99365508316).next_wait(
        retry_number=14, response=response(200), error=None, first_attempt_at=0.0
    )
    assert decision.give_up is None
    assert clock.monotonic() + decision.seconds <= 4097.99365508316


def test_a_destinations_default_backoff_is_used_when_no_strategy_is_configured() -> None:
    clock = FakeClock()
    fallback = (ExponentialBackoff(factor=1),)
    p = RetryPolicy(ErrorHandlerConfig(), clock, rng=random.Random(0), fallback=fallback)
    assert [d.seconds for d in run_waits(p, clock, response(429))] == [2, 4, 8, 16, 32]


def test_a_configured_strategy_wins_over_the_destinations_default_backoff() -> None:
    clock = FakeClock()
    config = ErrorHandlerConfig(backoff_strategies=(ConstantBackoff(backoff_time_in_seconds=0.5),))
    p = RetryPolicy(config, clock, fallback=(ExponentialBackoff(factor=1),))
    assert [d.seconds for d in run_waits(p, clock, response(503), retries=3)] == [0.5, 0.5, 0.5]


def test_the_default_backoff_answers_when_a_configured_header_strategy_finds_no_header() -> None:
    clock = FakeClock()
    config = ErrorHandlerConfig(backoff_strategies=(WaitTimeFromHeader(header="X-Wait"),))
    p = RetryPolicy(config, clock, fallback=(ConstantBackoff(backoff_time_in_seconds=3),))
    assert [d.seconds for d in run_waits(p, clock, response(503), retries=2)] == [3, 3]


def test_an_items_own_minimum_wait_raises_the_wait_like_retry_after() -> None:
    clock = FakeClock()
    decision = policy(clock).next_wait(
        retry_number=1, response=response(429), error=None, first_attempt_at=0.0, at_least_s=30.0
    )
    assert decision.give_up is None
    assert decision.seconds == 30.0


def test_an_items_minimum_wait_beyond_max_time_gives_up_instead_of_holding_the_run() -> None:
    clock = FakeClock()
    decision = policy(clock, max_time=600.0).next_wait(
        retry_number=1, response=response(429), error=None, first_attempt_at=0.0, at_least_s=86_400.0
    )
    assert decision.give_up is not None
    assert "86400.0 s" in decision.give_up and "600.0 s of max_time" in decision.give_up
