"""Every Segment event type to its Track API v2 item, identifier choice, timestamps, and the
events that cannot be mapped."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverator import PayloadValidationError
from deliverator.testing import Destination
from deliverator_customerio.ulid import decode_ulid, is_ulid

T = 1712311872  # 2024-04-05T10:11:12Z
ISO = "2024-04-05T10:11:12.345Z"

MAPPING_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "identify",
        {
            "type": "identify",
            "userId": "u-1",
            "timestamp": ISO,
            "traits": {"email": "ann@example.com", "plan": "pro", "trial_end": "2024-04-05T10:11:12Z"},
        },
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "u-1"},
            "timestamp": T,
            "attributes": {"email": "ann@example.com", "plan": "pro", "trial_end": T},
        },
    ),
    (
        "identify-createdAt",
        {"type": "identify", "userId": "u-1", "traits": {"createdAt": "2024-04-05T12:11:12+02:00", "a": 1}},
        {"type": "person", "action": "identify", "identifiers": {"id": "u-1"}, "attributes": {"a": 1, "created_at": T}},
    ),
    (
        "identify-created_at-digits",
        {"type": "identify", "userId": "u-1", "traits": {"created_at": str(T)}},
        {"type": "person", "action": "identify", "identifiers": {"id": "u-1"}, "attributes": {"created_at": T}},
    ),
    (
        "identify-anonymous-id-kept-as-attribute",
        {"type": "identify", "userId": "u-1", "anonymousId": "anon-9", "traits": {}},
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "u-1"},
            "attributes": {"anonymous_id": "anon-9"},
        },
    ),
    (
        "identify-anonymous-only",
        {"type": "identify", "anonymousId": "anon-9", "traits": {"plan": "free"}},
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"anonymous_id": "anon-9"},
            "attributes": {"plan": "free"},
        },
    ),
    (
        "track",
        {
            "type": "track",
            "userId": "u-1",
            "event": "Order Completed",
            "messageId": "m-1",
            "timestamp": ISO,
            "properties": {"total": 9.5, "shipped": "2024-04-05T10:11:12Z"},
        },
        {
            "type": "person",
            "action": "event",
            "identifiers": {"id": "u-1"},
            "name": "Order Completed",
            "timestamp": T,
            "attributes": {"total": 9.5, "shipped": T},
        },
    ),
    (
        "track-no-properties",
        {"type": "track", "userId": "u-1", "event": "Ping"},
        {"type": "person", "action": "event", "identifiers": {"id": "u-1"}, "name": "Ping", "attributes": {}},
    ),
    (
        "page-url",
        {
            "type": "page",
            "userId": "u-1",
            "name": "Pricing",
            "timestamp": ISO,
            "properties": {"url": "https://example.com/pricing", "title": "Pricing"},
        },
        {
            "type": "person",
            "action": "page",
            "identifiers": {"id": "u-1"},
            "name": "https://example.com/pricing",
            "timestamp": T,
            "attributes": {"url": "https://example.com/pricing", "title": "Pricing"},
        },
    ),
    (
        "page-name-only",
        {"type": "page", "userId": "u-1", "name": "Pricing"},
        {"type": "person", "action": "page", "identifiers": {"id": "u-1"}, "name": "Pricing", "attributes": {}},
    ),
    (
        "screen",
        {"type": "screen", "userId": "u-1", "name": "Home", "properties": {"tab": 2}, "timestamp": T},
        {
            "type": "person",
            "action": "screen",
            "identifiers": {"id": "u-1"},
            "name": "Home",
            "timestamp": T,
            "attributes": {"tab": 2},
        },
    ),
    (
        "group",
        {"type": "group", "userId": "u-1", "groupId": "acme", "traits": {"name": "Acme", "since": "2024-04-05"}},
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "attributes": {"name": "Acme", "since": T - 36672},
            "cio_relationships": [{"identifiers": {"id": "u-1"}}],
        },
    ),
    (
        "group-object-type",
        {"type": "group", "userId": "cio_abc", "groupId": 42, "traits": {"object_type_id": 3}},
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": "3", "object_id": "42"},
            "attributes": {},
            "cio_relationships": [{"identifiers": {"cio_id": "abc"}}],
        },
    ),
    (
        "group-anonymous",
        {"type": "group", "anonymousId": "anon-9", "groupId": "acme"},
        {
            "type": "object",
            "action": "identify_anonymous",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "attributes": {},
            "cio_relationships": [{"identifiers": {"anonymous_id": "anon-9"}}],
        },
    ),
    (
        "alias",
        {"type": "alias", "userId": "u-2", "previousId": "ann@example.com", "timestamp": ISO},
        {"type": "person", "action": "merge", "primary": {"id": "u-2"}, "secondary": {"email": "ann@example.com"}},
    ),
]


def _without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "id"}


@pytest.mark.parametrize(("event", "expected"), [c[1:] for c in MAPPING_CASES], ids=[c[0] for c in MAPPING_CASES])
def test_event_maps_to_its_item(make_destination: Any, event: dict[str, Any], expected: dict[str, Any]) -> None:
    original = copy.deepcopy(event)
    item = make_destination().build_payload(event)
    assert _without_id(item) == expected
    assert event == original  # the event is never changed


@pytest.mark.parametrize("kind", ["track", "page", "screen"])
def test_event_page_and_screen_carry_a_ulid_holding_the_event_time(make_destination: Any, kind: str) -> None:
    event = {"type": kind, "userId": "u", "event": "E", "name": "N", "messageId": "m", "timestamp": ISO}
    item = make_destination().build_payload(event)
    assert is_ulid(item["id"])
    assert decode_ulid(item["id"])[0] == T * 1000 + 345


@pytest.mark.parametrize("kind", ["identify", "group", "alias"])
def test_other_items_carry_no_dedup_id(make_destination: Any, kind: str) -> None:
    event = {"type": kind, "userId": "u", "groupId": "g", "previousId": "p", "messageId": "m"}
    assert "id" not in make_destination().build_payload(event)


def test_the_same_event_gets_the_same_id_in_every_run(make_destination: Any) -> None:
    event = {"type": "track", "userId": "u", "event": "E", "timestamp": ISO, "properties": {"a": [1, 2]}}
    first = make_destination().build_payload(event)["id"]
    assert make_destination().build_payload(copy.deepcopy(event))["id"] == first


@pytest.mark.parametrize(
    ("event", "identifiers"),
    [
        ({"userId": "cio_03000001"}, {"cio_id": "03000001"}),
        ({"userId": "ann@example.com"}, {"email": "ann@example.com"}),
        ({"userId": "u-1", "context": {"traits": {"email": "ann@example.com"}}}, {"id": "u-1"}),
        ({"userId": 1234}, {"id": "1234"}),
        ({"userId": "cio_"}, {"id": "cio_"}),
        ({"userId": "not an@email"}, {"id": "not an@email"}),
        ({"anonymousId": "a-1", "context": {"traits": {"email": "ann@example.com"}}}, {"email": "ann@example.com"}),
        ({"anonymousId": "a-1"}, {"anonymous_id": "a-1"}),
        ({"userId": "", "anonymousId": "a-1"}, {"anonymous_id": "a-1"}),
    ],
)
def test_identifier_choice_follows_segment(
    make_destination: Any, event: dict[str, Any], identifiers: dict[str, str]
) -> None:
    item = make_destination().build_payload({"type": "track", "event": "E", **event})
    assert item["identifiers"] == identifiers


def test_identify_uses_the_email_trait_when_there_is_no_user_id(make_destination: Any) -> None:
    item = make_destination().build_payload({"type": "identify", "anonymousId": "a", "traits": {"email": "b@c.de"}})
    assert item["identifiers"] == {"email": "b@c.de"}
    assert item["attributes"] == {"email": "b@c.de", "anonymous_id": "a"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("originalTimestamp", ISO), ("receivedAt", str(T)), ("sentAt", T * 1000)],
)
def test_missing_timestamp_falls_back_to_other_event_times(make_destination: Any, field: str, value: Any) -> None:
    item = make_destination().build_payload({"type": "track", "userId": "u", "event": "E", field: value})
    assert item["timestamp"] == T


def test_timestamp_wins_over_the_fallbacks(make_destination: Any) -> None:
    event = {"type": "track", "userId": "u", "event": "E", "timestamp": T, "receivedAt": T + 100}
    assert make_destination().build_payload(event)["timestamp"] == T


def test_event_without_any_time_has_no_timestamp_and_a_zero_time_id(make_destination: Any) -> None:
    item = make_destination().build_payload({"type": "track", "userId": "u", "event": "E", "messageId": "m"})
    assert "timestamp" not in item
    assert decode_ulid(item["id"])[0] == 0


def test_nested_timestamps_stay_strings_when_conversion_is_off(make_destination: Any) -> None:
    event = {"type": "track", "userId": "u", "event": "E", "timestamp": ISO, "properties": {"at": ISO}}
    item = make_destination(convert_timestamps=False).build_payload(event)
    assert item["attributes"] == {"at": ISO}
    assert item["timestamp"] == T  # the item's own timestamp is always converted


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "page", "userId": "u"}, "page needs properties.url or a name"),
        ({"type": "page", "userId": "u", "properties": {"url": 5}}, "properties.url must be a string"),
        ({"type": "screen", "userId": "u"}, "screen needs a name"),
        ({"type": "track", "userId": "u"}, "event: required"),
        ({"type": "track", "userId": "u", "event": ["E"]}, "event must be a string"),
        ({"type": "track", "event": "E"}, "needs a userId, an email trait or an anonymousId"),
        ({"type": "track", "userId": {"id": 1}, "event": "E"}, "userId must be a string, got dict"),
        ({"type": "track", "userId": True, "event": "E"}, "userId must be a string, got bool"),
        ({"type": "track", "userId": "u", "event": "E", "properties": [1]}, "properties must be an object"),
        ({"type": "track", "userId": "u", "event": "E", "context": "x"}, "context must be an object"),
        ({"type": "track", "userId": "u", "event": "E", "timestamp": "soon"}, "timestamp: 'soon' is neither"),
        ({"type": "track", "userId": "u", "event": "E", "sentAt": "soon"}, "sentAt: 'soon' is neither"),
        ({"type": "track", "userId": "u", "event": "E", "timestamp": -5}, "timestamp: -5 is outside 1970"),
        ({"type": "identify", "userId": "u", "traits": "x"}, "traits must be an object"),
        ({"type": "identify", "userId": "u", "traits": {"createdAt": "then"}}, "traits.createdAt: 'then'"),
        ({"type": "group", "userId": "u"}, "groupId: required"),
        ({"type": "group", "groupId": "g"}, "group needs a userId or anonymousId"),
        ({"type": "group", "userId": "u", "groupId": "g", "traits": {"object_type_id": 1.5}}, "traits.object_type_id"),
        ({"type": "alias", "anonymousId": "a", "previousId": "p"}, "alias needs a userId"),
        ({"type": "alias", "userId": "u"}, "previousId: required"),
        ({"type": "purchase", "userId": "u"}, "type: Customer.io cannot take events of type 'purchase'"),
        ({"userId": "u"}, "type: Customer.io cannot take events of type None"),
    ],
)
def test_unmappable_event_raises_a_validation_error_naming_the_field(
    make_destination: Any, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(PayloadValidationError) as raised:
        make_destination().build_payload(event)
    assert message in str(raised.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)
events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias"]),
        "userId": st.text(min_size=1, max_size=20),
        "event": st.text(min_size=1, max_size=20),
        "name": st.text(min_size=1, max_size=20),
        "groupId": st.text(min_size=1, max_size=20),
        "previousId": st.text(min_size=1, max_size=20),
        "properties": st.dictionaries(st.text(max_size=10), json_values, max_size=5),
        "traits": st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    },
    optional={"messageId": st.text(max_size=20), "timestamp": st.integers(0, 253_402_300_799)},
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])  # a stateless factory
@given(events)
def test_any_well_formed_event_maps_without_changing_it_and_the_same_way_twice(
    make_destination: Any, event: dict[str, Any]
) -> None:
    destination: Destination = make_destination()
    original = copy.deepcopy(event)
    try:
        first = destination.build_payload(event)
    except PayloadValidationError:
        # Only a non-string object_type_id trait may be refused among these events.
        assert "object_type_id" in event["traits"]
        return
    assert event == original
    assert destination.build_payload(copy.deepcopy(event)) == first
    assert first["type"] in ("person", "object")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # a stateless factory
@given(
    st.one_of(st.text(min_size=1), st.integers(min_value=0)),
    st.integers(min_value=0, max_value=253_402_300_799_999),
)
def test_any_message_id_and_time_give_a_ulid_that_decodes_to_the_event_time(
    make_destination: Any, message_id: Any, time_ms: int
) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=time_ms)
    event = {"type": "track", "userId": "u", "event": "E", "messageId": message_id}
    event["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    item = make_destination().build_payload(event)
    assert is_ulid(item["id"])
    assert decode_ulid(item["id"])[0] == time_ms
    assert item["timestamp"] == time_ms // 1000
