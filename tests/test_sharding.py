"""How a file run is shared among delivery processes: every record in exactly one share, the
requests in flight split without loss, and when a run stays in one process."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from deliverator._config import Config, DeliveryConfig, DestinationSection
from deliverator._delivery.sharding import (
    CHUNK,
    MIN_BYTES_PER_PROCESS,
    ShareOf,
    config_for,
    process_count,
    share,
)

BIG = 100 * MIN_BYTES_PER_PROCESS


@given(
    count=st.integers(1, 8),
    done=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 50)), max_size=20),
    index=st.integers(0, 20 * CHUNK),
)
def test_each_record_is_sent_by_exactly_one_process_unless_it_is_done(
    count: int, done: list[tuple[int, int]], index: int
) -> None:
    ranges = [(first, first + length) for first, length in done]
    finished = any(first <= index <= last for first, last in ranges)
    shares = [ShareOf(number, count, ranges) for number in range(count)]
    senders = [number for number, skipped in enumerate(shares) if index not in skipped]
    assert senders == ([] if finished else [(index // CHUNK) % count])


@given(total=st.integers(1, 64), count=st.integers(1, 64))
def test_the_requests_in_flight_are_split_without_loss(total: int, count: int) -> None:
    count = min(count, total)
    parts = [share(total, count, number) for number in range(count)]
    assert sum(parts) == total and min(parts) >= 1 and max(parts) - min(parts) <= 1


def test_each_process_runs_its_part_of_the_concurrency_in_one_process() -> None:
    config = Config(destination=DestinationSection(name="x"), delivery=DeliveryConfig(concurrency=5))
    parts = [config_for(config, 2, number).delivery for number in range(2)]
    assert [part.concurrency for part in parts] == [3, 2]
    assert {part.processes for part in parts} == {1}
    adaptive = attrs.evolve(config, delivery=DeliveryConfig(concurrency="adaptive", max_concurrency=9))
    assert [config_for(adaptive, 2, n).delivery.max_concurrency for n in range(2)] == [5, 4]


def test_auto_uses_the_cores_for_a_big_input_and_one_process_for_a_small_one() -> None:
    auto = DeliveryConfig()
    assert process_count(auto, BIG, cpus=2) == 2
    assert process_count(auto, BIG, cpus=16) == 4  # never more than the requests in flight
    assert process_count(auto, MIN_BYTES_PER_PROCESS - 1, cpus=2) == 1
    assert process_count(auto, 3 * MIN_BYTES_PER_PROCESS, cpus=8) == 3


def test_a_number_is_taken_as_asked_and_a_paced_run_stays_in_one_process() -> None:
    assert process_count(DeliveryConfig(processes=3), 10, cpus=1) == 3
    assert process_count(DeliveryConfig(processes=3, concurrency=2), BIG, cpus=8) == 2
    assert process_count(DeliveryConfig(processes=1), BIG, cpus=8) == 1
    assert process_count(DeliveryConfig(processes=4, max_requests_per_second=10), BIG, cpus=8) == 1


def test_asking_for_processes_in_a_paced_run_is_a_warning_that_says_why() -> None:
    from deliverator._session import config_warnings
    from deliverator._spec import DestinationSpec

    spec = DestinationSpec(name="x", settings_class=dict)
    paced = DeliveryConfig(processes=4, max_requests_per_second=10)
    config = Config(destination=DestinationSection(name="x"), delivery=paced)
    assert config_warnings(config, spec) == [
        "delivery.processes 4 is not used: a run paced by delivery.max_requests_per_second runs in one process"
    ]
    auto = attrs.evolve(config, delivery=attrs.evolve(paced, processes="auto"))
    assert config_warnings(auto, spec) == []
