"""C' must do deliverator's job, or A/C' prices nothing: the straight-line script must build
exactly the items the Customer.io plugin builds, ids included, and the input must be what
both accept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverator import PayloadValidationError, Secret
from deliverator._events import InvalidRecord, check_event
from deliverator_customerio import payloads
from deliverator_customerio.settings import CustomerIOSettings

import straightline
from events import iter_events, make_event, write_events

SETTINGS = CustomerIOSettings(site_id="bench", api_key=Secret("bench-key"))


def plugin_item(event: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = payloads.build_item(check_event(event), SETTINGS)
    return item


def test_every_benchmark_event_is_valid_and_built_identically() -> None:
    for event in iter_events(3_000):
        assert straightline.build(event) == plugin_item(event)


iso_times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from([dt.UTC, None, dt.timezone(dt.timedelta(hours=-5))]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                    iso_times.map(lambda moment: moment.isoformat()))
properties = st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(min_size=1, max_size=5), scalars, max_size=3)),
    max_size=5)
user_ids = st.one_of(st.text(max_size=12), st.just("cio_abc123"), st.just("cio_"), st.just(" "),
                     st.just("ana@example.com"), st.just("not an@email"), st.integers(), st.floats(),
                     st.none(), st.booleans())
names = st.one_of(st.text(max_size=20), st.just(" "), st.integers(), st.none())
timestamps = st.one_of(
    iso_times.map(lambda moment: moment.isoformat()),
    iso_times.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    st.integers(0, 4_000_000_000), st.integers(10**12, 4 * 10**12).map(str),
)


@settings(max_examples=300, deadline=None)
@given(user_id=user_ids, anonymous_id=st.one_of(st.none(), st.text(max_size=5)), name=names,
       message_id=st.text(min_size=1, max_size=20), timestamp=st.one_of(st.none(), timestamps),
       props=properties)
def test_straight_line_item_equals_the_plugins_for_any_track_event(
    user_id: Any, anonymous_id: str | None, name: Any, message_id: str, timestamp: Any, props: dict[str, Any]
) -> None:
    event: dict[str, Any] = {"type": "track", "userId": user_id, "event": name, "messageId": message_id,
                             "properties": props}
    if anonymous_id is not None:
        event["anonymousId"] = anonymous_id
    if timestamp is not None:
        event["timestamp"] = timestamp
    try:
        expected = plugin_item(event)
    except (InvalidRecord, PayloadValidationError):
        with pytest.raises(straightline.Invalid):
            straightline.build(event)
        return
    assert straightline.build(event) == expected


def test_event_stream_is_the_same_for_the_same_count(tmp_path: Path) -> None:
    first = write_events(tmp_path / "a.jsonl", 500).read_bytes()
    second = write_events(tmp_path / "b.jsonl", 500).read_bytes()
    assert first == second
    assert first.count(b"\n") == 500


def test_a_shorter_stream_is_a_prefix_of_a_longer_one(tmp_path: Path) -> None:
    short = write_events(tmp_path / "short.jsonl", 10).read_bytes()
    long = write_events(tmp_path / "long.jsonl", 25_000).read_bytes()
    assert long.startswith(short)


def test_message_ids_are_unique() -> None:
    ids = {event["messageId"] for event in iter_events(50_000)}
    assert len(ids) == 50_000


def test_negative_event_count_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="event count"):
        write_events(tmp_path / "x.jsonl", -1)


def test_events_carry_the_fields_the_issue_asks_for() -> None:
    event = make_event(12_345)
    assert event["type"] == "track"
    assert {"messageId", "userId", "timestamp", "properties"} <= event.keys()
    assert event["timestamp"].endswith("Z")
