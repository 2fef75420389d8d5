"""The emulator's per-item rules, checked directly (no HTTP): every documented item kind is
accepted when well formed, and each broken rule yields Customer.io's reason and field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator_customerio.emulator import ItemError, validate_item
from deliverator_customerio.emulator.validation import item_size_error

ULID = "01HTZ8W6QK3V4J9X2M5N7P8R0S"


def person(action: str, **fields: Any) -> dict[str, Any]:
    return {"type": "person", "action": action, "identifiers": {"id": "user-1"}, **fields}


VALID_ITEMS: dict[str, dict[str, Any]] = {
    "identify": person("identify", attributes={"plan": "pro"}, timestamp=1712345678),
    "identify with relationship": person(
        "identify", cio_relationships=[{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]
    ),
    "event": person("event", name="Order Completed", id=ULID, timestamp=1712345678, attributes={"total": 12.5}),
    "event by email": {"type": "person", "action": "event", "identifiers": {"email": "a@example.com"}, "name": "x"},
    "anonymous event": {"type": "person", "action": "event", "identifiers": {"anonymous_id": "anon-1"}, "name": "x"},
    "event with lower-case ulid": person("event", name="x", id=ULID.lower()),
    "page": person("page", name="https://shop.example.com/pricing", id=ULID),
    "screen": person("screen", name="Cart"),
    "delete": person("delete"),
    "suppress": person("suppress"),
    "unsuppress": person("unsuppress"),
    "add relationships": person("add_relationships", cio_relationships=[{"identifiers": {"cio_object_id": "o1"}}]),
    "add device": person("add_device", device={"token": "t", "platform": "ios", "last_used": 1, "attributes": {}}),
    "delete device": person("delete_device", device={"token": "t"}),
    "merge": {"type": "person", "action": "merge", "primary": {"id": "u1"}, "secondary": {"email": "old@example.com"}},
    "object identify": {
        "type": "object",
        "action": "identify",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "attributes": {"name": "Acme"},
        "cio_relationships": [{"identifiers": {"id": "user-1"}, "relationship_attributes": {"role": "admin"}}],
    },
    "object identify anonymous": {
        "type": "object",
        "action": "identify_anonymous",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "cio_relationships": [{"identifiers": {"anonymous_id": "anon-1"}}],
    },
    "object delete": {"type": "object", "action": "delete", "identifiers": {"cio_object_id": "o1"}},
    "object add relationships": {
        "type": "object",
        "action": "add_relationships",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "cio_relationships": [{"identifiers": {"email": "a@example.com"}}],
    },
    "delivery event": {
        "type": "delivery",
        "action": "event",
        "identifiers": {"id": "delivery-1"},
        "name": "opened",
        "attributes": {"device_token": "tok"},
    },
}


@pytest.mark.parametrize("item", VALID_ITEMS.values(), ids=VALID_ITEMS.keys())
def test_documented_item_kinds_are_accepted(item: dict[str, Any]) -> None:
    assert validate_item(item) == []


INVALID_ITEMS: list[tuple[str, Any, list[tuple[str, str]]]] = [
    ("not an object", ["type", "person"], [("invalid", "")]),
    ("no type", {"action": "identify"}, [("required", "type")]),
    ("unknown type", {"type": "people", "action": "identify"}, [("invalid", "type")]),
    ("no action", {"type": "person", "identifiers": {"id": "u"}}, [("required", "action")]),
    ("unknown action", {"type": "person", "action": "track", "identifiers": {"id": "u"}}, [("invalid", "action")]),
    ("object has no event action", {"type": "object", "action": "event"}, [("invalid", "action")]),
    ("no identifiers", {"type": "person", "action": "identify"}, [("required", "identifiers")]),
    ("two identifiers", person("identify", identifiers={"id": "u", "email": "a@b.co"}), [("invalid", "identifiers")]),
    ("empty identifiers", person("identify", identifiers={}), [("required", "identifiers")]),
    ("unknown identifier", person("delete", identifiers={"user_id": "u"}), [("invalid", "identifiers")]),
    ("anonymous identify", person("identify", identifiers={"anonymous_id": "a"}), [("invalid", "identifiers")]),
    ("numeric id", person("identify", identifiers={"id": 42}), [("invalid", "identifiers.id")]),
    ("blank id", person("identify", identifiers={"id": "  "}), [("invalid", "identifiers.id")]),
    ("email that is not one", person("delete", identifiers={"email": "nobody"}), [("invalid", "identifiers.email")]),
    ("identifier over 150 bytes", person("delete", identifiers={"id": "u" * 151}), [("invalid", "identifiers.id")]),
    ("event without name", person("event"), [("required", "name")]),
    ("page without name", person("page", name=""), [("required", "name")]),
    ("numeric name", person("screen", name=7), [("invalid", "name")]),
    ("event name over 100 bytes", person("event", name="n" * 101), [("invalid", "name")]),
    ("id not a ulid", person("event", name="x", id="msg-1"), [("invalid", "id")]),
    ("ulid over 128 bits", person("event", name="x", id="8" + ULID[1:]), [("invalid", "id")]),
    ("string timestamp", person("event", name="x", timestamp="1712345678"), [("invalid", "timestamp")]),
    ("float timestamp", person("identify", timestamp=1712345678.5), [("invalid", "timestamp")]),
    ("boolean timestamp", person("identify", timestamp=True), [("invalid", "timestamp")]),
    ("attributes not an object", person("identify", attributes=["a"]), [("invalid", "attributes")]),
    ("attribute name over 150 bytes", person("identify", attributes={"a" * 151: 1}), [("invalid", "attributes")]),
    (
        "attribute value over 1000 bytes",
        person("identify", attributes={"bio": "é" * 501}),
        [("invalid", "attributes.bio")],
    ),
    (
        "nested attribute value over 1000 bytes",
        person("identify", attributes={"tags": ["x" * 400] * 3}),
        [("invalid", "attributes.tags")],
    ),
    ("301 attributes", person("identify", attributes={f"a{n}": n for n in range(301)}), [("invalid", "attributes")]),
    (
        "recipient not an email",
        person("event", name="x", attributes={"recipient": "bob"}),
        [("invalid", "attributes.recipient")],
    ),
    (
        "merge without secondary",
        {"type": "person", "action": "merge", "primary": {"id": "u"}},
        [("required", "secondary")],
    ),
    (
        "merge side with two identifiers",
        {"type": "person", "action": "merge", "primary": {"id": "u", "cio_id": "c"}, "secondary": {"id": "v"}},
        [("invalid", "primary")],
    ),
    (
        "merge by phone",
        {"type": "person", "action": "merge", "primary": {"phone": "+1"}, "secondary": {"id": "v"}},
        [("invalid", "primary")],
    ),
    ("device without token", person("add_device", device={"platform": "ios"}), [("required", "device.token")]),
    (
        "device on an unknown platform",
        person("add_device", device={"token": "t", "platform": "web"}),
        [("invalid", "device.platform")],
    ),
    (
        "device attribute not a string",
        person("add_device", device={"token": "t", "platform": "android", "attributes": {"push_enabled": True}}),
        [("invalid", "device.attributes.push_enabled")],
    ),
    ("delete device without device", person("delete_device"), [("required", "device")]),
    ("relationships missing", person("add_relationships"), [("required", "cio_relationships")]),
    ("relationships empty", person("add_relationships", cio_relationships=[]), [("invalid", "cio_relationships")]),
    (
        "person relationship to a person",
        person("identify", cio_relationships=[{"identifiers": {"id": "u2"}}]),
        [
            ("required", "cio_relationships[0].identifiers.object_type_id"),
            ("required", "cio_relationships[0].identifiers.object_id"),
        ],
    ),
    (
        "object without object_id",
        {"type": "object", "action": "identify", "identifiers": {"object_type_id": "1"}},
        [("required", "identifiers.object_id")],
    ),
    (
        "object with both id forms",
        {
            "type": "object",
            "action": "delete",
            "identifiers": {"cio_object_id": "o", "object_id": "a", "object_type_id": "1"},
        },
        [("invalid", "identifiers")],
    ),
    (
        "anonymous object related to a known person",
        {
            "type": "object",
            "action": "identify_anonymous",
            "identifiers": {"object_type_id": "1", "object_id": "a"},
            "cio_relationships": [{"identifiers": {"id": "u"}}],
        },
        [("invalid", "cio_relationships[0].identifiers")],
    ),
    (
        "delivery event with an unknown name",
        {
            "type": "delivery",
            "action": "event",
            "identifiers": {"id": "d"},
            "name": "clicked",
            "attributes": {"device_token": "t"},
        },
        [("invalid", "name")],
    ),
    (
        "delivery event without device token",
        {"type": "delivery", "action": "event", "identifiers": {"id": "d"}, "name": "opened", "attributes": {}},
        [("required", "attributes.device_token")],
    ),
]


@pytest.mark.parametrize(
    ("item", "expected"), [case[1:] for case in INVALID_ITEMS], ids=[case[0] for case in INVALID_ITEMS]
)
def test_each_broken_rule_names_its_reason_and_field(item: Any, expected: list[tuple[str, str]]) -> None:
    errors = validate_item(item)
    assert [(error.reason, error.field) for error in errors] == expected
    assert all(error.message for error in errors)


def test_several_problems_of_one_item_are_all_reported() -> None:
    item = {"type": "person", "action": "event", "identifiers": {"id": "u", "email": "a@b.co"}, "timestamp": "soon"}
    fields = [error.field for error in validate_item(item)]
    assert fields == ["identifiers", "name", "timestamp"]


def test_limits_count_utf8_bytes_not_characters() -> None:
    # 50 characters, 150 bytes: on the limit. One more two-byte character is over it.
    assert validate_item(person("identify", attributes={"é" * 75: 1})) == []
    assert validate_item(person("identify", attributes={"é" * 76: 1}))[0].field == "attributes"


def test_event_name_limit_does_not_apply_to_page_urls() -> None:
    assert validate_item(person("page", name="https://shop.example.com/" + "p" * 200)) == []


def test_item_size_limit_is_32000_bytes_inclusive() -> None:
    assert item_size_error(32_000) is None
    error = item_size_error(32_001)
    assert error == ItemError("invalid", "", "item is 32001 bytes; an item may be at most 32000 bytes")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "type",
        "action",
        "identifiers",
        "name",
        "id",
        "timestamp",
        "attributes",
        "primary",
        "secondary",
        "device",
        "cio_relationships",
    ]
)
ITEMS = st.dictionaries(KEYS, JSON | st.sampled_from(["person", "object", "delivery", "event", "identify", "merge"]))


@given(JSON | ITEMS)
def test_any_json_value_gets_a_verdict_and_never_an_exception(item: Any) -> None:
    for error in validate_item(item):
        assert error.reason in ("invalid", "required")
        assert isinstance(error.field, str) and error.message


IDENTIFIERS = st.sampled_from(["id", "email", "cio_id", "anonymous_id"])
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=25).filter(str.strip)
ATTRIBUTES = st.dictionaries(
    # At most 37 characters of up to 4 bytes: within 150 bytes. Email-typed names are avoided.
    st.text(max_size=37).filter(lambda key: key not in ("recipient", "from_address", "reply_to")),
    st.none() | st.booleans() | st.integers() | st.text(max_size=250),
    max_size=30,
)


@given(kind=IDENTIFIERS, name=NAMES, attributes=ATTRIBUTES, timestamp=st.integers(0, 2**40))
def test_person_events_within_the_limits_are_accepted(
    kind: str, name: str, attributes: dict[str, Any], timestamp: int
) -> None:
    value = "someone@example.com" if kind == "email" else "someone"
    item = person("event", identifiers={kind: value}, name=name, id=ULID, timestamp=timestamp, attributes=attributes)
    assert validate_item(item) == []


@given(attributes=ATTRIBUTES, extra=st.integers(1001, 3000))
def test_one_oversized_attribute_value_is_exactly_one_error(attributes: dict[str, Any], extra: int) -> None:
    attributes = {**attributes, "too_big": "x" * extra}
    errors = validate_item(person("identify", attributes=attributes))
    assert [(error.reason, error.field) for error in errors] == [("invalid", "attributes.too_big")]
