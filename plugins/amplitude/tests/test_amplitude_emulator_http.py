"""The emulator over real HTTP: the answers the HTTP V2 API documents for well-formed and
malformed requests, its limits, and deduplication by insert_id."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from deliverator_amplitude.emulator import Emulator
from deliverator_amplitude.emulator.limits import MAX_BODY_BYTES, MAX_EVENTS

KEY = "<the emulator's key>"
"""Stands for the key the emulator serves, in parameters chosen before the fixtures exist."""


def test_a_valid_upload_is_ingested_and_answered_like_amplitude(emu: Emulator, post: Any, amp_event: Any) -> None:
    response = post([amp_event(1), amp_event(2)])
    assert response.status == 200
    body = response.json()
    assert body["code"] == 200 and body["events_ingested"] == 2
    assert isinstance(body["payload_size_bytes"], int) and isinstance(body["server_upload_time"], int)
    assert [e["insert_id"] for e in emu.kept()] == ["ins-0001", "ins-0002"]


def test_an_insert_id_seen_before_is_kept_once(emu: Emulator, post: Any, amp_event: Any) -> None:
    assert post([amp_event(1)]).status == 200
    assert post([amp_event(1), amp_event(2)]).status == 200
    assert emu.kept_count() == 2
    assert emu.received_insert_ids()["ins-0001"] == 2
    assert emu.stats().duplicates == 1


def test_the_same_insert_id_on_another_device_is_another_event(emu: Emulator, post: Any, amp_event: Any) -> None:
    post([amp_event(1, device_id="device-aaaa"), amp_event(1, device_id="device-bbbb")])
    assert emu.kept_count() == 2


def test_events_without_insert_id_are_all_kept(emu: Emulator, post: Any, amp_event: Any) -> None:
    post([amp_event(1, insert_id=None), amp_event(1, insert_id=None)])
    assert emu.kept_count() == 2


@pytest.mark.parametrize(
    ("body", "error", "missing"),
    [
        (b"", "Missing request body", None),
        (b"{not json", "Invalid JSON request body", None),
        (b"[1, 2]", "Invalid JSON request body", None),
        ({"events": []}, "Request missing required field", "api_key"),
        ({"api_key": KEY}, "Request missing required field", "events"),
        ({"api_key": KEY, "events": [1]}, "Invalid event JSON", None),
        ({"api_key": KEY, "events": [], "options": {"min_id_length": "5"}}, "Invalid JSON request body", None),
        ({"api_key": "wrong-key", "events": []}, "Invalid API key: wrong-key", None),
    ],
)
def test_a_malformed_request_is_refused_as_a_whole(
    emu: Emulator, post: Any, api_key: str, body: Any, error: str, missing: str | None
) -> None:
    if isinstance(body, dict) and body.get("api_key") == KEY:
        body = {**body, "api_key": api_key}
    response = post(body=body)
    assert response.status == 400
    assert response.json()["error"] == error
    assert response.json().get("missing_field") == missing
    assert emu.kept_count() == 0


def test_more_than_2000_events_is_413(emu: Emulator, post: Any, amp_event: Any) -> None:
    response = post([amp_event(n, insert_id=None, time=None) for n in range(MAX_EVENTS + 1)])
    assert response.status == 413
    assert response.json() == {"code": 413, "error": "Payload too large"}
    assert emu.kept_count() == 0
    assert post([amp_event(n, insert_id=None, time=None) for n in range(MAX_EVENTS)]).status == 200


def test_a_body_of_1_mb_or_more_is_413(post: Any, amp_event: Any, api_key: str) -> None:
    event = amp_event(1, event_properties={"pad": ""})
    envelope = len(orjson.dumps({"api_key": api_key, "events": [event]}))
    event["event_properties"]["pad"] = "x" * (MAX_BODY_BYTES - envelope)
    assert post([event]).status == 413
    event["event_properties"]["pad"] = "x" * (MAX_BODY_BYTES - envelope - 1)
    assert post([event]).status == 200


def test_invalid_events_are_named_by_field_and_nothing_is_ingested(emu: Emulator, post: Any, amp_event: Any) -> None:
    events = [
        amp_event(0),
        amp_event(1, time="2024-04-05T10:00:00Z"),
        amp_event(2, event_type=None),
        amp_event(3, event_properties=[1]),
        amp_event(4, time=1.5, user_id="null"),
        amp_event(5),
    ]
    response = post(events)
    assert response.status == 400
    body = response.json()
    assert body["error"] == "Invalid field values on some events"
    assert body["events_with_invalid_fields"] == {"event_properties": [3], "time": [1, 4], "user_id": [4]}
    assert body["events_with_missing_fields"] == {"event_type": [2]}
    assert emu.kept_count() == 0
    assert emu.stats().events_refused == 4


@pytest.mark.parametrize(
    "placeholder", ["null", "anonymous", "0", "-1", "00000000-0000-0000-0000-000000000000", "NULL"]
)
def test_placeholder_ids_are_invalid(post: Any, amp_event: Any, placeholder: str) -> None:
    response = post([amp_event(1, user_id=None, device_id=placeholder)])
    assert response.json()["events_with_invalid_fields"] == {"device_id": [0]}


def test_an_id_shorter_than_min_id_length_is_removed_from_the_event(emu: Emulator, post: Any, amp_event: Any) -> None:
    assert post([amp_event(1, user_id="abc", device_id="device-1")]).status == 200
    assert "user_id" not in emu.kept()[0]
    assert emu.kept()[0]["device_id"] == "device-1"


def test_an_event_left_without_ids_is_listed_as_an_invalid_id_length(emu: Emulator, post: Any, amp_event: Any) -> None:
    response = post([amp_event(1, user_id="abc")])
    assert response.status == 400
    assert response.json()["events_with_invalid_id_lengths"] == {"user_id": [0]}
    assert post([amp_event(1, user_id="abc")], options={"min_id_length": 3}).status == 200


def test_an_event_without_any_id_is_missing_both(post: Any, amp_event: Any) -> None:
    response = post([amp_event(1, user_id=None)])
    assert response.json()["events_with_missing_fields"] == {"device_id": [0], "user_id": [0]}


@pytest.mark.parametrize(
    ("user_properties", "ok"),
    [
        ({"$set": {"plan": "pro"}}, True),
        ({"plan": "pro"}, True),
        ({"$set": {"plan": "pro"}, "plan": "pro"}, False),
        ({"$explode": {}}, False),
        ({"$set": "pro"}, False),
    ],
)
def test_user_properties_hold_operations_or_properties_never_both(
    post: Any, amp_event: Any, user_properties: dict[str, Any], ok: bool
) -> None:
    response = post([amp_event(1, event_type="$identify", user_properties=user_properties)])
    assert (response.status == 200) is ok


def test_an_identify_needs_user_properties(post: Any, amp_event: Any) -> None:
    response = post([amp_event(1, event_type="$identify")])
    assert response.json()["events_with_missing_fields"] == {"user_properties": [0]}


def test_other_paths_and_methods_are_refused(emu: Emulator, http: Any) -> None:
    assert http.post(emu.url + "/batch", body=b"{}").status == 404
    response = http.get(emu.url + "/2/httpapi")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
