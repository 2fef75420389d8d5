"""The whole loop against a misbehaving emulator: whatever the faults, every event ends
delivered, and the emulator holds each delivered event exactly once. Lost answers force
re-sends; the deduplication ids are what keeps them from counting twice.

Waits run on a virtual clock, so retries after ``Retry-After`` cost no real time.
"""

from __future__ import annotations

from typing import Any

import pytest

from deliverator.testing import deliver_events
from deliverator_customerio import plugin
from deliverator_customerio.emulator import Emulator, Faults

EVENTS = 240


def stream() -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "userId": f"user-{n % 17}",
            "event": "Order Completed",
            "messageId": f"msg-{n}",
            "timestamp": "2024-04-05T10:11:12.345Z",
            "properties": {"order": n},
        }
        for n in range(EVENTS)
    ]


def deliver(emulator: Emulator) -> list[dict[str, Any]]:
    return deliver_events(
        stream(),
        plugin,
        {"site_id": "site", "api_key": "key", "endpoint": emulator.url},
        error_handler={"max_retries": 30, "max_time": 100_000},
        batch_size=20,
        concurrency=4,
        linger_s=0.05,
        timeout_s=5.0,
    )


@pytest.mark.parametrize(
    "faults",
    [
        Faults(lose_answer_ratio=0.3, seed=1),
        Faults(lose_answer_ratio=0.2, error_ratio=0.2, drop_ratio=0.1, seed=2),
        Faults(rate_limit_every=3, lose_answer_ratio=0.25, string_bodies=True, seed=3),
    ],
    ids=["lost answers", "lost answers, 5xx and drops", "rate limits, lost answers, string bodies"],
)
def test_every_event_is_delivered_and_kept_exactly_once_despite_faults(faults: Faults) -> None:
    with Emulator(site_id="site", api_key="key", faults=faults) as emulator:
        outcomes = deliver(emulator)
        accepted = emulator.accepted()
        received = emulator.received_ids()
    assert len(outcomes) == EVENTS
    assert {o["outcome"] for o in outcomes} == {"delivered"}
    delivered_ids = sorted(o["sent"]["id"] for o in outcomes if o["sent"] is not None)
    assert sorted(item["id"] for item in accepted) == delivered_ids
    assert len(set(delivered_ids)) == EVENTS
    # The faults really forced re-sends: some ids arrived more than once, yet were kept once.
    assert max(received.values()) > 1
