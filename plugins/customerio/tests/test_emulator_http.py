"""The emulator over real HTTP: auth, the v2 endpoints and their answers, the size limits,
the region check, what it keeps, and fast mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverator import HttpClient, HttpSettings
from deliverator.testing import Destination
from deliverator_customerio.emulator import Emulator, EmulatorClient, basic_auth

SITE_ID = "emu-site"
API_KEY = "emu-key-7c1d"


@pytest.fixture(scope="module")
def running() -> Iterator[Emulator]:
    """One emulator for the module (starting one per test costs more than the tests)."""
    with Emulator(site_id=SITE_ID, api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def emu(running: Emulator) -> Emulator:
    """The module's emulator, emptied for this test."""
    running.clear()
    return running


@pytest.fixture(scope="module")
def http() -> Iterator[HttpClient]:
    client = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=5.0))
    yield client
    client.close()


@pytest.fixture
def api(emu: Emulator, http: HttpClient) -> EmulatorClient:
    """An authenticated client for the emulator."""
    return emu.client(http)


def event(number: int, **fields: Any) -> dict[str, Any]:
    """A valid person event with a distinct ULID id."""
    item: dict[str, Any] = {
        "type": "person",
        "action": "event",
        "identifiers": {"id": f"user-{number}"},
        "name": "Order Completed",
        "id": f"01HTZ8W6QK3V4J9X2M5N7P{number:04d}",
        "timestamp": 1712345678,
        "attributes": {"order": number},
    }
    item.update(fields)
    return item


def identify(attributes: dict[str, Any], user: str = "user-1") -> dict[str, Any]:
    return {"type": "person", "action": "identify", "identifiers": {"id": user}, "attributes": attributes}


def batch_of_size(total: int) -> list[dict[str, Any]]:
    """Valid items whose ``{"batch": [...]}`` is exactly ``total`` bytes (items under 32,000)."""
    items: list[dict[str, Any]] = []

    def size() -> int:
        return len(orjson.dumps({"batch": items}))

    while size() < total - 31_000:
        items.append(identify({f"a{n}": "x" * 900 for n in range(30)}, user=f"u{len(items)}"))
    filler = identify({}, user=f"u{len(items)}")
    items.append(filler)
    while size() < total - 200:
        filler["attributes"][f"f{len(filler['attributes'])}"] = "y" * 100
    filler["attributes"]["pad"] = ""
    filler["attributes"]["pad"] = "z" * (total - size())
    assert size() == total
    return items


def item_of_size(total: int) -> dict[str, Any]:
    """One valid identify item whose JSON is exactly ``total`` bytes."""
    item = identify({})
    while len(orjson.dumps(item)) < total - 400:
        item["attributes"][f"f{len(item['attributes'])}"] = "y" * 200
    item["attributes"]["pad"] = ""
    item["attributes"]["pad"] = "z" * (total - len(orjson.dumps(item)))
    assert len(orjson.dumps(item)) == total
    return item


# --- auth ----------------------------------------------------------------------------------------


def test_valid_batch_is_answered_200_with_an_empty_object(api: EmulatorClient, emu: Emulator) -> None:
    response = api.batch([event(1), event(2)])
    assert response.status == 200
    assert response.json() == {}
    assert emu.accepted() == [event(1), event(2)]


@pytest.mark.parametrize(
    ("site_id", "api_key"), [(SITE_ID, "wrong"), ("other-site", API_KEY), (SITE_ID, API_KEY + "x")]
)
def test_wrong_credentials_are_answered_401_and_nothing_is_kept(
    emu: Emulator, http: HttpClient, site_id: str, api_key: str
) -> None:
    response = emu.client(http, site_id=site_id, api_key=api_key).batch([event(1)])
    assert response.status == 401
    assert response.json() == {"meta": {"error": "Unauthorized request"}}
    assert emu.accepted_count() == 0


@pytest.mark.parametrize("header", [None, "Bearer emu-key-7c1d", "Basic !!!not-base64", "Basic ZW11LXNpdGU="])
def test_missing_or_malformed_authorization_is_401(emu: Emulator, http: HttpClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = http.post(emu.url + "/api/v2/batch", body=orjson.dumps({"batch": [event(1)]}), headers=headers)
    assert response.status == 401


# --- per-item validation ----------------------------------------------------------------------


def test_invalid_items_get_207_naming_their_batch_index_and_the_others_are_kept(
    api: EmulatorClient, emu: Emulator
) -> None:
    no_name = event(2)
    del no_name["name"]
    two_problems = event(4, identifiers={"id": "u", "email": "u@example.com"}, timestamp="yesterday")
    response = api.batch([event(1), no_name, event(3), two_problems])
    assert response.status == 207
    errors = response.json()["errors"]
    assert [(e["batch_index"], e["reason"], e["field"]) for e in errors] == [
        (1, "required", "name"),
        (3, "invalid", "identifiers"),
        (3, "invalid", "timestamp"),
    ]
    assert all(set(e) == {"batch_index", "reason", "field", "message"} and e["message"] for e in errors)
    assert emu.accepted() == [event(1), event(3)]


@settings(max_examples=40, deadline=None)
@given(validity=st.lists(st.booleans(), max_size=12))
def test_207_names_exactly_the_invalid_items_and_the_valid_ones_are_kept(
    running: Emulator, http: HttpClient, validity: list[bool]
) -> None:
    running.clear()
    items = [event(n) if valid else event(n, timestamp="now") for n, valid in enumerate(validity)]
    response = running.client(http).batch(items)
    invalid = [n for n, valid in enumerate(validity) if not valid]
    assert response.status == (207 if invalid else 200)
    named = [entry["batch_index"] for entry in response.json().get("errors", [])]
    assert named == invalid
    assert running.accepted() == [item for item, valid in zip(items, validity, strict=True) if valid]


def test_item_over_32000_bytes_in_a_batch_is_a_207_error_for_that_item_only(api: EmulatorClient, emu: Emulator) -> None:
    response = api.batch([item_of_size(32_000), item_of_size(32_001)])
    assert response.status == 207
    (error,) = response.json()["errors"]
    assert error["batch_index"] == 1
    assert "32001 bytes" in error["message"]
    assert emu.accepted_count() == 1


def test_an_item_the_plugin_builds_from_each_event_type_is_accepted(
    api: EmulatorClient, emu: Emulator, make_destination: Callable[..., Destination]
) -> None:
    destination = make_destination()
    events = [
        {
            "type": "identify",
            "userId": "u1",
            "traits": {"email": "u1@example.com", "createdAt": "2024-01-02T03:04:05Z"},
        },
        {"type": "identify", "anonymousId": "a1", "traits": {"email": "anon@example.com"}},
        {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "m1", "timestamp": "2024-04-05T10:11:12Z"},
        {"type": "track", "anonymousId": "a1", "event": "Viewed", "properties": {"at": "2024-04-05T10:11:12Z"}},
        {"type": "page", "userId": "cio_abc", "name": "Home", "properties": {"url": "https://example.com/"}},
        {"type": "screen", "userId": "x@example.com", "name": "Cart"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
        {"type": "group", "anonymousId": "a1", "groupId": "acme"},
        {"type": "alias", "userId": "u1", "previousId": "a1"},
    ]
    items = [destination.build_payload(e) for e in events]
    response = api.batch(items)
    assert (response.status, response.json()) == (200, {})
    assert emu.accepted_count() == len(events)


# --- whole-request errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"batch": [', ""),
        (b"", ""),
        (b"[]", ""),
        (b'"batch"', ""),
        (b"{}", "batch"),
        (b'{"batch": {"type": "person"}}', "batch"),
    ],
)
def test_malformed_batch_body_is_400_with_errors_but_no_batch_index(
    api: EmulatorClient, emu: Emulator, body: bytes, field: str
) -> None:
    response = api.post("/api/v2/batch", body)
    assert response.status == 400
    (error,) = response.json()["errors"]
    assert set(error) == {"reason", "field", "message"}
    assert error["field"] == field and error["message"]
    assert emu.accepted_count() == 0


def test_batch_body_of_500000_bytes_is_413_and_one_byte_less_is_accepted(api: EmulatorClient, emu: Emulator) -> None:
    largest = batch_of_size(499_999)
    assert api.batch(largest).status == 200
    assert emu.accepted_count() == len(largest)
    emu.clear()
    response = api.batch(batch_of_size(500_000))
    assert response.status == 413
    assert "500000 bytes" in response.json()["errors"][0]["message"]
    assert emu.accepted_count() == 0


def test_empty_batch_is_accepted_and_keeps_nothing(api: EmulatorClient, emu: Emulator) -> None:
    response = api.batch([])
    assert (response.status, response.json(), emu.accepted_count()) == (200, {}, 0)


def test_unknown_path_is_404_and_wrong_method_is_405(emu: Emulator, http: HttpClient, api: EmulatorClient) -> None:
    assert api.post("/api/v1/customers/u1/events", {"name": "x"}).status == 404
    response = http.get(emu.url + "/api/v2/batch")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"


def test_chunked_body_is_refused_with_411(emu: Emulator) -> None:
    with urllib3.PoolManager() as pool:
        response = pool.request("POST", emu.url + "/api/v2/batch", body=iter([b'{"batch":[]}']), chunked=True)
    assert response.status == 411


# --- entity ------------------------------------------------------------------------------------


def test_entity_accepts_one_valid_item(api: EmulatorClient, emu: Emulator) -> None:
    response = api.entity(event(1))
    assert (response.status, response.json()) == (200, {})
    assert emu.accepted() == [event(1)]


def test_entity_with_an_invalid_item_is_400_listing_every_error(api: EmulatorClient, emu: Emulator) -> None:
    response = api.entity({"type": "person", "action": "event", "identifiers": {}})
    assert response.status == 400
    errors = response.json()["errors"]
    assert [(e["reason"], e["field"]) for e in errors] == [("required", "identifiers"), ("required", "name")]
    assert all("batch_index" not in e for e in errors)
    assert emu.accepted_count() == 0


def test_entity_of_32000_bytes_is_accepted_and_one_more_byte_is_413(api: EmulatorClient, emu: Emulator) -> None:
    assert api.entity(item_of_size(32_000)).status == 200
    assert api.entity(item_of_size(32_001)).status == 413
    assert emu.accepted_count() == 1


# --- region ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "url"), [("us", "https://track.customer.io"), ("eu", "https://track-eu.customer.io")]
)
def test_region_check_reports_the_accounts_region_and_workspace(http: HttpClient, region: str, url: str) -> None:
    with Emulator(site_id="s", api_key="k", region=region, environment_id=4242) as emulator:
        response = emulator.client(http).region()
    assert response.status == 200
    assert response.json() == {"url": url, "region": region, "environment_id": 4242}


def test_region_check_with_wrong_credentials_is_401(emu: Emulator, http: HttpClient) -> None:
    assert emu.client(http, api_key="nope").region().status == 401


def test_unknown_region_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="region"):
        Emulator(region="ap")


# --- what it keeps -----------------------------------------------------------------------------


def test_an_event_resent_with_the_same_id_is_kept_once_and_counted_twice(api: EmulatorClient, emu: Emulator) -> None:
    api.batch([event(1), event(2)])
    api.batch([event(2), event(3)])
    assert emu.accepted() == [event(1), event(2), event(3)]
    assert emu.received_ids() == {event(n)["id"]: (2 if n == 2 else 1) for n in (1, 2, 3)}
    assert emu.stats().duplicates == 1


def test_same_id_with_different_content_is_still_one_event(api: EmulatorClient, emu: Emulator) -> None:
    api.batch([event(1), event(1, attributes={"order": "changed"})])
    assert emu.accepted() == [event(1)]


def test_items_without_id_are_deduplicated_by_content(api: EmulatorClient, emu: Emulator) -> None:
    api.batch([identify({"plan": "pro"}), identify({"plan": "pro"}), identify({"plan": "free"})])
    assert emu.accepted() == [identify({"plan": "pro"}), identify({"plan": "free"})]


def test_rejected_items_are_not_kept_but_their_ids_are_counted(api: EmulatorClient, emu: Emulator) -> None:
    api.batch([event(1, name="")])
    assert emu.accepted_count() == 0
    assert emu.received_ids() == {event(1)["id"]: 1}
    assert emu.stats().items_rejected == 1


def test_requests_are_counted_by_answer_status(api: EmulatorClient, emu: Emulator, http: HttpClient) -> None:
    api.batch([event(1)])
    api.batch([event(2, name="")])
    api.post("/api/v2/batch", b"nope")
    emu.client(http, api_key="bad").batch([])
    assert emu.requests == 4
    assert emu.responses_by_status() == {200: 1, 207: 1, 400: 1, 401: 1}


def test_connections_are_kept_alive_across_requests(emu: Emulator) -> None:
    headers = {"Authorization": basic_auth(SITE_ID, API_KEY)}
    with urllib3.HTTPConnectionPool("127.0.0.1", emu.port, maxsize=1) as pool:
        statuses = [
            pool.request("POST", "/api/v2/batch", body=b'{"batch":[]}', headers=headers).status for _ in range(3)
        ]
        assert statuses == [200, 200, 200]
        assert pool.num_connections == 1


# --- fast mode ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast() -> Iterator[Emulator]:
    with Emulator(site_id=SITE_ID, api_key=API_KEY, fast=True) as emulator:
        yield emulator


def test_fast_mode_counts_items_without_validating_or_keeping_them(fast: Emulator, http: HttpClient) -> None:
    fast.clear()
    api = fast.client(http)
    response = api.batch([event(1), event(1), {"type": "nonsense"}])
    assert (response.status, response.json()) == (200, {})
    assert api.entity(event(2)).status == 200
    assert fast.accepted_count() == 4
    assert fast.accepted() == []
    assert fast.received_ids() == {}


def test_fast_mode_still_checks_credentials_json_and_size(fast: Emulator, http: HttpClient) -> None:
    fast.clear()
    assert fast.client(http, api_key="bad").batch([event(1)]).status == 401
    assert fast.client(http).post("/api/v2/batch", b"{not json").status == 400
    assert fast.client(http).post("/api/v2/batch", b" " * 500_000).status == 413
    assert fast.accepted_count() == 0


def test_repr_never_shows_the_api_key(emu: Emulator, api: EmulatorClient) -> None:
    assert API_KEY not in repr(emu)
    assert API_KEY not in repr(api)
