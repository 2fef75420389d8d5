"""Mixpanel sends no Retry-After with a 429: the destination's own backoff (2 s, doubling,
plus up to 5 s of jitter) spaces the retries, unless the config sets a strategy. On the
injectable clock: nothing here really waits."""

from __future__ import annotations

import itertools
from typing import Any

from deliverator.testing import FakeClock, RecordedRequest, ScriptedResponse, ScriptedServer, deliver_events
from deliverator_mixpanel import plugin
from plugins.mixpanel.tests.conftest import settings_table, track

RATE_LIMITED = {"code": 429, "error": "Project exceeded rate limits. Please retry the request with exponential backoff"}


def request_times(error_handler: dict[str, Any], limited: int) -> tuple[list[float], list[str]]:
    clock = FakeClock()
    seen: list[float] = []

    def respond(request: RecordedRequest) -> ScriptedResponse:
        seen.append(clock.monotonic())
        if len(seen) <= limited:
            return ScriptedResponse(status=429, body=RATE_LIMITED)
        return ScriptedResponse(status=200, body={"code": 200, "num_records_imported": 1, "status": "OK"})

    with ScriptedServer(respond) as server:
        outcomes = deliver_events(
            [track(1)],
            destination=plugin,
            settings=settings_table(endpoint=server.url),
            error_handler=error_handler,
            clock=clock,
            concurrency=1,
        )
    return seen, [o["outcome"] for o in outcomes]


def test_429_retries_wait_2_then_4_then_8_seconds_plus_jitter() -> None:
    times, outcomes = request_times({}, limited=3)
    assert outcomes == ["delivered"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    for gap, base in zip(gaps, (2, 4, 8), strict=True):
        assert base <= gap <= base + 5, gaps


def test_a_configured_strategy_replaces_the_destinations_backoff() -> None:
    config = {"backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 10}]}
    times, outcomes = request_times(config, limited=2)
    assert outcomes == ["delivered"]
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [10, 10]


def test_the_projects_rate_limit_is_waited_out_and_every_event_arrives_once() -> None:
    from deliverator_mixpanel.emulator import Emulator, Faults, Project
    from deliverator_mixpanel.sample import sample_events

    clock = FakeClock(start=1_800_000_000.0)
    faults = Faults(project_events_per_window=60, rate_window_s=10.0)
    with Emulator(project=Project(api_secret="s"), faults=faults, clock=clock) as emulator:
        outcomes = deliver_events(
            sample_events(),
            destination=plugin,
            settings={"api_secret": "s", "endpoint": emulator.url},
            error_handler={"max_retries": 10, "max_time": 3600},
            clock=clock,
            batch_size=40,
            concurrency=2,
        )
        stats = emulator.stats()
    assert stats.by_status.get(429), "the project's limit was reached"
    delivered = [o for o in outcomes if o["outcome"] == "delivered"]
    assert len(delivered) == stats.events_imported and set(emulator.insert_ids().values()) == {1}
    assert {o["outcome"] for o in outcomes} == {"delivered", "failed", "ignored"}
    assert all(o["errortype"] == "PAYLOAD_VALIDATION_FAILED" for o in outcomes if o["outcome"] == "failed")
    assert clock.monotonic() >= 10.0  # the run waited on the clock for the window to move on
