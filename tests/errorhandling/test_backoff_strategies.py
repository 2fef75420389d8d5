"""Each backoff strategy on its own: Airbyte's cases, by behaviour, for attempts 1..5."""

from __future__ import annotations

import random
import re

import pytest

from deliverator._errorhandling import (
    ConstantBackoff,
    ExponentialBackoff,
    WaitDecision,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
)
from deliverator._errorhandling.backoff import BackoffStrategy
from tests.errorhandling.helpers import response

NOW = 1_700_000_000.0


def waits(strategy: BackoffStrategy, resp: object = None, attempts: range = range(1, 6)) -> list[WaitDecision | None]:
    rng = random.Random(7)
    return [strategy.wait(attempt=a, response=resp, now=NOW, rng=rng) for a in attempts]  # type: ignore[arg-type]  # resp may be None or a test response


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (ConstantBackoff(backoff_time_in_seconds=5), [5, 5, 5, 5, 5]),
        (ConstantBackoff(backoff_time_in_seconds=0), [0, 0, 0, 0, 0]),
        (ExponentialBackoff(), [10, 20, 40, 80, 160]),
        (ExponentialBackoff(factor=0.5), [1, 2, 4, 8, 16]),
        (ExponentialBackoff(factor=1), [2, 4, 8, 16, 32]),
        (ExponentialBackoff(factor=0), [0, 0, 0, 0, 0]),
    ],
    ids=[
        "constant-5",
        "constant-0",
        "exponential-default-factor-5",
        "exponential-0.5",
        "exponential-1",
        "exponential-0",
    ],
)
def test_strategy_waits_for_attempts_one_to_five(strategy: BackoffStrategy, expected: list[float]) -> None:
    assert waits(strategy) == [WaitDecision(float(s)) for s in expected]


def test_exponential_wait_for_a_huge_attempt_is_infinite_not_an_overflow_error() -> None:
    decision = ExponentialBackoff(factor=5).wait(attempt=100_000, response=None, now=NOW, rng=random.Random())
    assert decision == WaitDecision(float("inf"))


@pytest.mark.parametrize(
    "strategy",
    [
        ConstantBackoff(backoff_time_in_seconds=5, jitter_range_in_seconds=2),
        ExponentialBackoff(factor=1, jitter_range_in_seconds=2),
    ],
)
def test_jitter_adds_between_zero_and_twice_the_range(strategy: BackoffStrategy) -> None:
    base = [5.0] * 5 if isinstance(strategy, ConstantBackoff) else [2.0, 4.0, 8.0, 16.0, 32.0]
    rng = random.Random(1)
    for attempt, plain in enumerate(base, start=1):
        for _ in range(200):
            decision = strategy.wait(attempt=attempt, response=None, now=NOW, rng=rng)
            assert decision is not None
            assert plain <= decision.seconds <= plain + 4.0


def test_jitter_with_a_seeded_random_source_is_repeatable() -> None:
    strategy = ConstantBackoff(backoff_time_in_seconds=1, jitter_range_in_seconds=3)
    assert waits(strategy) == waits(strategy)
    assert len({d.seconds for d in waits(strategy) if d is not None}) == 5


@pytest.mark.parametrize(
    ("header_value", "regex", "expected"),
    [
        ("30", None, 30.0),
        ("1.5", None, 1.5),
        (" 12 ", None, 12.0),
        ("wait=42s", r"wait=(\d+)", 42.0),
        ("wait=42s;retry=7", r"retry=(\d+)", 7.0),
        ("limit 100, reset 17", r"\d+$", 17.0),
        ("Tue, 14 Nov 2023 22:00:00 GMT", None, 0.0),
        ("Tue, 14 Nov 2023 22:14:20 GMT", None, 1_700_000_060.0 - NOW),
    ],
    ids=[
        "seconds",
        "decimal",
        "spaces",
        "regex-group-1",
        "regex-group-anywhere",
        "regex-whole-match",
        "date-past",
        "date-future",
    ],
)
def test_wait_time_from_header_reads_seconds(header_value: str, regex: str | None, expected: float) -> None:
    strategy = WaitTimeFromHeader(header="X-Wait", regex=re.compile(regex) if regex else None)
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"x-wait": header_value}), now=NOW, rng=random.Random()
    )
    assert decision == WaitDecision(expected)


def test_regex_with_a_group_uses_the_group_not_the_whole_match() -> None:
    # Airbyte ignores capture groups and would try to read "reset=9" as a number.
    strategy = WaitTimeFromHeader(header="X-Wait", regex=re.compile(r"reset=(\d+)"))
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"X-Wait": "reset=9"}), now=NOW, rng=random.Random()
    )
    assert decision == WaitDecision(9.0)


@pytest.mark.parametrize(
    ("headers", "regex"),
    [
        ({}, None),
        ({"X-Wait": "soon"}, None),
        ({"X-Wait": "-5"}, None),
        ({"X-Wait": "nan"}, None),
        ({"X-Wait": "inf"}, None),
        ({"X-Wait": "1e3"}, None),
        ({"X-Wait": "wait=abc"}, r"wait=(\d+)"),
        ({"X-Wait": "abc"}, r"(\d+)?abc"),
    ],
    ids=["missing", "words", "negative", "nan", "inf", "exponent", "regex-no-match", "group-not-taken"],
)
def test_header_strategy_without_a_readable_header_has_no_opinion(headers: dict[str, str], regex: str | None) -> None:
    compiled = re.compile(regex) if regex else None
    for strategy in (
        WaitTimeFromHeader(header="X-Wait", regex=compiled),
        WaitUntilTimeFromHeader(header="X-Wait", regex=compiled, min_wait=3),
    ):
        assert strategy.wait(attempt=1, response=response(429, headers=headers), now=NOW, rng=random.Random()) is None


def test_header_strategies_have_no_opinion_without_a_response() -> None:
    for strategy in (WaitTimeFromHeader(header="X-Wait"), WaitUntilTimeFromHeader(header="X-Wait")):
        assert strategy.wait(attempt=1, response=None, now=NOW, rng=random.Random()) is None


@pytest.mark.parametrize(("seconds", "gives_up"), [(59.0, False), (60.0, True), (61.0, True)])
def test_wait_at_or_over_max_waiting_time_gives_up(seconds: float, gives_up: bool) -> None:
    strategy = WaitTimeFromHeader(header="Retry-After", max_waiting_time_in_seconds=60)
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"Retry-After": f"{seconds:g}"}), now=NOW, rng=random.Random()
    )
    assert decision is not None
    if gives_up:
        assert decision.give_up is not None
        assert "max_waiting_time_in_seconds" in decision.give_up
        assert "Retry-After" in decision.give_up
    else:
        assert decision == WaitDecision(seconds)


@pytest.mark.parametrize(
    ("reset_at", "min_wait", "expected"),
    [
        (NOW + 3600, 0.0, 3600.0),
        (NOW + 2, 10.0, 10.0),
        (NOW - 50, 0.0, 0.0),
        (NOW - 50, 5.0, 5.0),
        (NOW + 0.5, 0.0, 0.5),
    ],
    ids=["an-hour-ahead", "min-wait-raises", "past-means-now", "past-with-min-wait", "fraction"],
)
def test_wait_until_time_from_header_waits_until_the_epoch(reset_at: float, min_wait: float, expected: float) -> None:
    strategy = WaitUntilTimeFromHeader(header="X-RateLimit-Reset", min_wait=min_wait)
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"X-RateLimit-Reset": repr(reset_at)}), now=NOW, rng=random.Random()
    )
    assert decision == WaitDecision(pytest.approx(expected))  # type: ignore[arg-type]  # approx stands in for a float


def test_wait_until_reads_an_http_date_and_a_regex_group() -> None:
    strategy = WaitUntilTimeFromHeader(header="X-Reset", regex=re.compile(r"at=(\d+)"))
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"X-Reset": f"at={int(NOW) + 90}"}), now=NOW, rng=random.Random()
    )
    assert decision == WaitDecision(90.0)
    dated = WaitUntilTimeFromHeader(header="X-Reset")
    decision = dated.wait(
        attempt=1,
        response=response(429, headers={"X-Reset": "Tue, 14 Nov 2023 22:15:20 GMT"}),
        now=NOW,
        rng=random.Random(),
    )
    assert decision == WaitDecision(120.0)


def test_wait_until_over_its_cap_gives_up() -> None:
    strategy = WaitUntilTimeFromHeader(header="X-Reset", max_waiting_time_in_seconds=600)
    decision = strategy.wait(
        attempt=1, response=response(429, headers={"X-Reset": str(int(NOW) + 3600)}), now=NOW, rng=random.Random()
    )
    assert decision is not None and decision.give_up is not None
    assert "3600.0 s" in decision.give_up
