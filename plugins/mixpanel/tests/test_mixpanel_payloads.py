"""Mapping: track, page and screen become /import events; identify, group and alias are
ignored with a reason unless profiles map identify to /engage; $insert_id is deterministic."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator import IgnoreEvent, PayloadValidationError
from deliverator.testing import Destination
from deliverator_mixpanel import plugin
from deliverator_mixpanel.insertid import insert_id
from plugins.mixpanel.tests.conftest import TOKEN, settings_table, track

INSERT_ID = re.compile(r"[A-Za-z0-9-]{1,36}")


def build(event: dict[str, Any], **settings: Any) -> dict[str, Any]:
    destination = Destination.from_plugins([("mixpanel", plugin)], settings_table(**settings))
    return destination.build_payload(event)


def test_a_track_becomes_an_import_event_with_what_mixpanel_requires() -> None:
    payload = build(track(1, anonymousId="anon-7", context={"ip": "203.0.113.9"}))
    assert payload == {
        "event": "Song Played",
        "properties": {
            "n": 1,
            "time": 1_717_000_000_123,
            "distinct_id": "user-1",
            "$insert_id": insert_id(track(1, anonymousId="anon-7", context={"ip": "203.0.113.9"})),
            "$user_id": "user-1",
            "$device_id": "anon-7",
            "ip": "203.0.113.9",
        },
    }


def test_distinct_id_is_the_anonymous_id_without_a_user_id() -> None:
    properties = build(track(1, userId=None, anonymousId="anon-7"))["properties"]
    assert properties["distinct_id"] == "anon-7" and "$user_id" not in properties


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("2024-05-29T16:26:40Z", 1_717_000_000_000),
        ("2024-05-29T18:26:40.5+02:00", 1_717_000_000_500),
        ("2024-05-29T16:26:40", 1_717_000_000_000),
        (1_717_000_000, 1_717_000_000_000),
        (1_717_000_000.25, 1_717_000_000_250),
        (1_717_000_000_123, 1_717_000_000_123),
        ("1717000000", 1_717_000_000_000),
    ],
)
def test_time_is_sent_in_milliseconds(value: Any, ms: int) -> None:
    assert build(track(1, timestamp=value))["properties"]["time"] == ms


def test_time_falls_back_to_the_original_timestamp() -> None:
    event = track(1, timestamp=None, originalTimestamp="2024-05-29T16:26:40Z")
    assert build(event)["properties"]["time"] == 1_717_000_000_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timestamp": None}, "timestamp: Mixpanel needs the event's time"),
        ({"timestamp": "yesterday"}, "timestamp: 'yesterday' is neither ISO-8601 nor a Unix time"),
        ({"timestamp": True}, "timestamp: expected a time"),
        ({"properties": ["a"]}, "properties: must be an object"),
        ({"event": "  "}, "event: track needs a non-empty event name"),
    ],
)
def test_an_event_mixpanel_cannot_take_fails_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadValidationError, match=re.escape(message)):
        build(track(1, **fields))


def test_our_required_keys_win_over_properties_of_the_same_name() -> None:
    properties = build(track(1, properties={"time": "x", "distinct_id": "y", "$insert_id": "z"}))["properties"]
    assert properties["time"] == 1_717_000_000_123 and properties["distinct_id"] == "user-1"
    assert properties["$insert_id"] != "z"


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"type": "page", "name": "Pricing"}, "Viewed Pricing Page"),
        ({"type": "page", "properties": {"name": "Docs"}}, "Viewed Docs Page"),
        ({"type": "page"}, "Loaded a Page"),
        ({"type": "screen", "name": "Player"}, "Viewed Player Screen"),
        ({"type": "screen"}, "Loaded a Screen"),
    ],
)
def test_page_and_screen_are_named_events(fields: dict[str, Any], name: str) -> None:
    event = track(1, event=None, **fields)
    assert build(event)["event"] == name


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("identify", "profiles = true"),
        ("group", "group profiles are not sent"),
        ("alias", "alias is not sent"),
    ],
)
def test_identify_group_and_alias_are_ignored_with_a_reason(kind: str, reason: str) -> None:
    with pytest.raises(IgnoreEvent, match=reason):
        build(track(1, type=kind, event=None, groupId="g", previousId="p"))


def test_with_profiles_identify_becomes_an_engage_set_of_its_traits() -> None:
    event = track(1, type="identify", event=None, traits={"plan": "pro"}, context={"ip": "203.0.113.9"})
    payload = build(event, profiles=True, project_token=TOKEN)
    assert payload == {"$token": TOKEN, "$distinct_id": "user-1", "$ip": "203.0.113.9", "$set": {"plan": "pro"}}
    assert plugin.request_kind(payload) == "engage"
    assert plugin.request_kind(build(track(1), profiles=True, project_token=TOKEN)) == "import"


def test_the_insert_id_is_the_same_for_a_retry_and_a_rerun_and_differs_between_events() -> None:
    first, again = build(track(1)), build(track(1))
    assert first["properties"]["$insert_id"] == again["properties"]["$insert_id"]
    assert first["properties"]["$insert_id"] != build(track(2))["properties"]["$insert_id"]


def test_without_a_message_id_the_insert_id_comes_from_the_content() -> None:
    one, same = track(1, messageId=None), track(1, messageId=None)
    assert insert_id(one) == insert_id(same)
    assert insert_id(one) != insert_id(track(1, messageId=None, properties={"n": 2}))
    assert insert_id(one) != insert_id(track(1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6), st.one_of(st.none(), st.text()))
def test_every_insert_id_is_valid_for_mixpanel_and_stable(fields: dict[str, Any], message_id: str | None) -> None:
    event = {**fields, "messageId": message_id}
    value = insert_id(event)
    assert INSERT_ID.fullmatch(value) and value == insert_id(dict(event))


def test_a_time_outside_1970_to_9999_fails_naming_the_field() -> None:
    with pytest.raises(PayloadValidationError, match=r"originalTimestamp: .* outside 1970"):
        build(track(1, timestamp=None, originalTimestamp="1969-12-31T23:59:59Z"))
