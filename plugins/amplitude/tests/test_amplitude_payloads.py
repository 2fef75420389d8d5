"""One Segment event to one HTTP V2 event: the mapping table, ids and min_id_length, times in
ms, deterministic insert ids, and the calls that are ignored with a reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator import IgnoreEvent, PayloadValidationError, Secret
from deliverator_amplitude.insertids import insert_id
from deliverator_amplitude.payloads import build_event
from deliverator_amplitude.settings import AmplitudeSettings

SETTINGS = AmplitudeSettings(api_key=Secret("k"))


def event(kind: str = "track", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": kind,
        "userId": "user-1",
        "messageId": "m-1",
        "timestamp": "2024-04-05T10:11:12.345Z",
    }
    if kind == "track":
        base["event"] = "Song Played"
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def test_a_track_becomes_an_event_with_its_properties() -> None:
    built = build_event(event(properties={"song": "Heroes", "seconds": 12}), SETTINGS)
    assert built == {
        "event_type": "Song Played",
        "event_properties": {"song": "Heroes", "seconds": 12},
        "user_id": "user-1",
        "insert_id": insert_id({"messageId": "m-1"}),
        "time": 1_712_311_872_345,
    }


@pytest.mark.parametrize(
    ("kind", "fields", "event_type"),
    [
        ("page", {"name": "Pricing"}, "Viewed Pricing Page"),
        ("page", {"properties": {"name": "Home"}}, "Viewed Home Page"),
        ("page", {}, "Loaded a Page"),
        ("screen", {"name": "Player"}, "Viewed Player Screen"),
        ("screen", {}, "Loaded a Screen"),
    ],
)
def test_pages_and_screens_become_viewed_events(kind: str, fields: dict[str, Any], event_type: str) -> None:
    built = build_event(event(kind, **fields), SETTINGS)
    assert built["event_type"] == event_type
    assert built["event_properties"] == fields.get("properties", {})


def test_an_identify_sets_user_properties_from_traits() -> None:
    built = build_event(event("identify", traits={"plan": "premium", "age": 40}), SETTINGS)
    assert built["event_type"] == "$identify"
    assert built["user_properties"] == {"$set": {"plan": "premium", "age": 40}}
    assert "event_properties" not in built


@pytest.mark.parametrize(("kind", "fields"), [("group", {"groupId": "g-1"}), ("alias", {"previousId": "anon-1"})])
def test_group_and_alias_are_ignored_with_a_reason(kind: str, fields: dict[str, Any]) -> None:
    with pytest.raises(IgnoreEvent) as raised:
        build_event(event(kind, **fields), SETTINGS)
    assert "not sent" in raised.value.reason


def test_the_anonymous_id_is_the_device_id_unless_the_context_names_the_device() -> None:
    assert build_event(event(userId=None, anonymousId="anon-123"), SETTINGS)["device_id"] == "anon-123"
    with_device = event(anonymousId="anon-123", context={"device": {"id": "phone-777"}})
    assert build_event(with_device, SETTINGS)["device_id"] == "phone-777"


def test_numeric_user_ids_are_sent_as_text() -> None:
    assert build_event(event(userId=1234567), SETTINGS)["user_id"] == "1234567"


def test_an_id_shorter_than_min_id_length_fails_naming_the_setting() -> None:
    with pytest.raises(PayloadValidationError, match=r"userId: 'u7' is 2 characters, shorter than min_id_length \(5\)"):
        build_event(event(userId="u7", anonymousId="anon-123"), SETTINGS)
    short_ok = AmplitudeSettings(api_key=Secret("k"), min_id_length=2)
    assert build_event(event(userId="u7"), short_ok)["user_id"] == "u7"


def test_context_fields_are_copied() -> None:
    context = {
        "ip": "203.0.113.9",
        "locale": "en-GB",
        "app": {"version": "4.2"},
        "os": {"name": "iOS", "version": "17.4"},
        "device": {"manufacturer": "Apple", "model": "iPhone15,2"},
    }
    built = build_event(event(context=context), SETTINGS)
    assert {k: built[k] for k in ("ip", "language", "app_version", "os_name", "os_version")} == {
        "ip": "203.0.113.9",
        "language": "en-GB",
        "app_version": "4.2",
        "os_name": "iOS",
        "os_version": "17.4",
    }
    assert (built["device_manufacturer"], built["device_model"]) == ("Apple", "iPhone15,2")


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2024-04-05T10:11:12Z", 1_712_311_872_000),
        ("2024-04-05T12:11:12.5+02:00", 1_712_311_872_500),
        ("2024-04-05T10:11:12.123456789Z", 1_712_311_872_123),
        (1_712_311_872, 1_712_311_872_000),
        (1_712_311_872_345, 1_712_311_872_345),
        ("1712311872", 1_712_311_872_000),
        (1_712_311_872.9, 1_712_311_872_900),
    ],
)
def test_times_are_whole_milliseconds(timestamp: Any, expected: int) -> None:
    assert build_event(event(timestamp=timestamp), SETTINGS)["time"] == expected


def test_without_a_time_amplitude_uses_the_upload_time() -> None:
    assert "time" not in build_event(event(timestamp=None), SETTINGS)
    assert build_event(event(timestamp=None, sentAt="2024-04-05T10:11:12Z"), SETTINGS)["time"] == 1_712_311_872_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timestamp": "next tuesday"}, "timestamp: 'next tuesday' is not a time"),
        ({"timestamp": "1960-01-01T00:00:00Z"}, "timestamp: '1960-01-01T00:00:00Z' is not a time between 1970"),
        ({"properties": [1]}, "properties must be an object, got list"),
        ({"userId": 1.5}, "userId must be a string, got float"),
        ({"context": {"device": "x"}}, "context.device must be an object"),
        ({"event": 7}, "event must be a string"),
    ],
)
def test_what_cannot_be_mapped_fails_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadValidationError, match=message):
        build_event(event(**fields), SETTINGS)


def test_the_insert_id_comes_from_the_message_id_or_else_the_content() -> None:
    first = build_event(event(), SETTINGS)["insert_id"]
    assert first == build_event(event(properties={"changed": True}), SETTINGS)["insert_id"]
    assert first != build_event(event(messageId="m-2"), SETTINGS)["insert_id"]
    anonymous = event(messageId=None)
    assert build_event(anonymous, SETTINGS)["insert_id"] == build_event(copy.deepcopy(anonymous), SETTINGS)["insert_id"]
    assert (
        build_event(anonymous, SETTINGS)["insert_id"] != build_event(event(messageId=None, x=1), SETTINGS)["insert_id"]
    )
    assert first.startswith("dlv-") and len(first) == 36


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@given(
    message_id=st.none() | st.text(min_size=1, max_size=20),
    properties=st.dictionaries(st.text(max_size=5), _json, max_size=4),
)
def test_building_is_deterministic_and_never_changes_the_event(
    message_id: str | None, properties: dict[str, Any]
) -> None:
    original = event(messageId=message_id, properties=properties)
    kept = copy.deepcopy(original)
    assert build_event(original, SETTINGS) == build_event(copy.deepcopy(original), SETTINGS)
    assert original == kept


@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=30, unique=True))
def test_distinct_message_ids_give_distinct_insert_ids(message_ids: list[str]) -> None:
    ids = {insert_id({"messageId": m}) for m in message_ids}
    assert len(ids) == len(message_ids)
