"""The emulator over real HTTP: Mixpanel's credentials, limits, answers and deduplication."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest

from deliverator import HttpClient
from deliverator.testing import FakeClock
from deliverator_mixpanel.emulator import Emulator, Faults
from plugins.mixpanel.tests.conftest import (
    API_SECRET,
    PROJECT,
    SA_SECRET,
    SA_USER,
    TOKEN,
    basic,
    mp_event,
    post,
)


def body(response: Any) -> Any:
    return orjson.loads(response.body)


def test_a_valid_batch_is_imported_with_200(http: HttpClient, fresh: Emulator) -> None:
    response = post(http, fresh.url, [mp_event(n) for n in range(3)])
    assert response.status == 200
    assert body(response) == {"code": 200, "num_records_imported": 3, "status": "OK"}
    assert fresh.imported_count() == 3


@pytest.mark.parametrize(
    ("auth", "query"),
    [
        (basic(API_SECRET), ""),
        (basic(TOKEN), ""),
        (basic(SA_USER, SA_SECRET), "&project_id=2195"),
    ],
    ids=["project-secret", "project-token", "service-account"],
)
def test_each_documented_credential_is_accepted(http: HttpClient, fresh: Emulator, auth: str, query: str) -> None:
    assert post(http, fresh.url, [mp_event(1)], path="/import?strict=1" + query, auth=auth).status == 200


@pytest.mark.parametrize(
    ("auth", "query"),
    [
        (basic("wrong"), ""),
        (basic(API_SECRET, "not-empty"), ""),
        (basic(SA_USER, SA_SECRET), ""),
        (basic(SA_USER, SA_SECRET), "&project_id=9"),
        ("Bearer x", ""),
    ],
    ids=["unknown", "secret-with-password", "sa-without-project", "sa-wrong-project", "not-basic"],
)
def test_bad_credentials_are_401_and_nothing_is_imported(
    http: HttpClient, fresh: Emulator, auth: str, query: str
) -> None:
    response = post(http, fresh.url, [mp_event(1)], path="/import?strict=1" + query, auth=auth)
    assert response.status == 401
    assert body(response)["status"] == "Unauthorized"
    assert fresh.imported_count() == 0


def test_invalid_events_are_listed_in_failed_records_and_the_others_imported(http: HttpClient, fresh: Emulator) -> None:
    events = [mp_event(0), mp_event(1, time=None), mp_event(2), mp_event(3, distinct_id="null")]
    response = post(http, fresh.url, events)
    assert response.status == 400
    answer = body(response)
    assert answer["num_records_imported"] == 2
    assert [(r["index"], r["insert_id"], r["field"]) for r in answer["failed_records"]] == [
        (1, events[1]["properties"]["$insert_id"], "properties.time"),
        (3, events[3]["properties"]["$insert_id"], "properties.distinct_id"),
    ]
    assert sorted(e["properties"]["distinct_id"] for e in fresh.events()) == ["user-0", "user-2"]


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"time": "2024-05-29"}, "properties.time"),
        ({"time": 1_000}, "properties.time"),
        ({"distinct_id": None}, "properties.distinct_id"),
        ({"distinct_id": "00000000-0000-0000-0000-000000000000"}, "properties.distinct_id"),
        ({"$insert_id": None}, "properties.$insert_id"),
        ({"$insert_id": "x" * 37}, "properties.$insert_id"),
        ({"$insert_id": "has space"}, "properties.$insert_id"),
        ({"$insert_id": "undefined"}, "properties.$insert_id"),
        ({"deep": {"a": {"b": {"c": {"d": 1}}}}}, "properties.deep.a.b.c"),
        ({"list": list(range(255))}, "properties.list"),
    ],
)
def test_documented_rules_refuse_the_event_naming_the_field(
    http: HttpClient, fresh: Emulator, properties: dict[str, Any], field: str
) -> None:
    response = post(http, fresh.url, [mp_event(0, **properties)])
    assert response.status == 400
    assert [r["field"] for r in body(response)["failed_records"]] == [field]


def test_an_empty_distinct_id_is_allowed(http: HttpClient, fresh: Emulator) -> None:
    assert post(http, fresh.url, [mp_event(0, distinct_id="")]).status == 200


def test_too_many_properties_are_refused(http: HttpClient, fresh: Emulator) -> None:
    event = mp_event(0, **{f"p{n}": n for n in range(252)})
    assert post(http, fresh.url, [event]).status == 400


def test_events_more_than_an_hour_ahead_of_the_clock_are_refused(http: HttpClient) -> None:
    clock = FakeClock(start=1_717_000_000.0)
    with Emulator(project=PROJECT, clock=clock) as emulator:
        ahead = mp_event(0, time=1_717_000_000_000 + 3_600_001)
        assert post(http, emulator.url, [ahead]).status == 400
        soon = mp_event(1, time=1_717_000_000_000 + 3_599_000)
        assert post(http, emulator.url, [soon]).status == 200


def test_duplicates_by_event_distinct_id_time_and_insert_id_are_kept_once(http: HttpClient, fresh: Emulator) -> None:
    post(http, fresh.url, [mp_event(0), mp_event(1)])
    post(http, fresh.url, [mp_event(0), mp_event(1, time=1_717_000_000_009)])
    assert fresh.imported_count() == 3
    assert fresh.insert_ids()[mp_event(0)["properties"]["$insert_id"]] == 2
    assert fresh.stats().duplicates == 1


def test_strings_are_kept_truncated_to_255_characters(http: HttpClient, fresh: Emulator) -> None:
    post(http, fresh.url, [mp_event(0, note="x" * 300)])
    assert len(fresh.events()[0]["properties"]["note"]) == 255


def test_a_body_over_the_limit_is_413_with_the_limit_in_the_message(http: HttpClient) -> None:
    with Emulator(project=PROJECT, max_request_bytes=2000) as emulator:
        response = post(http, emulator.url, [mp_event(n, pad="y" * 200) for n in range(10)])
        assert response.status == 413
        assert body(response)["error"] == "request exceeds max limit of 2000 bytes"
        assert emulator.imported_count() == 0


def test_more_than_2000_events_is_a_400_without_failed_records(http: HttpClient, fresh: Emulator) -> None:
    response = post(http, fresh.url, [mp_event(n) for n in range(2001)])
    assert response.status == 400 and "failed_records" not in body(response)
    assert fresh.imported_count() == 0


def test_gzip_and_ndjson_bodies_are_read(http: HttpClient, fresh: Emulator) -> None:
    lines = b"\n".join(orjson.dumps(mp_event(n)) for n in range(2))
    headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    assert post(http, fresh.url, gzip.compress(lines), headers=headers).status == 200
    assert fresh.imported_count() == 2


@pytest.mark.parametrize("raw", [b"", b"not json", b'"a string"', b"42"])
def test_a_malformed_body_is_a_400(http: HttpClient, fresh: Emulator, raw: bytes) -> None:
    assert post(http, fresh.url, raw).status == 400


def test_unknown_paths_and_methods_are_404_and_405(http: HttpClient, fresh: Emulator) -> None:
    assert post(http, fresh.url, [], path="/track").status == 404
    assert http.get(fresh.url + "/import", headers={"Authorization": basic(API_SECRET)}).status == 405


def test_engage_applies_set_updates_and_answers_status_1(http: HttpClient, fresh: Emulator) -> None:
    updates = [{"$token": TOKEN, "$distinct_id": "u1", "$set": {"plan": "pro"}}]
    response = post(http, fresh.url, updates, path="/engage?verbose=1")
    assert (response.status, body(response)) == (200, {"status": 1, "error": None})
    assert fresh.profiles() == {"u1": {"plan": "pro"}}


def test_engage_refuses_a_wrong_token_with_200_and_status_0(http: HttpClient, fresh: Emulator) -> None:
    updates = [{"$token": "nope", "$distinct_id": "u1", "$set": {"plan": "pro"}}]
    response = post(http, fresh.url, updates, path="/engage?verbose=1")
    assert response.status == 200 and body(response)["status"] == 0
    assert post(http, fresh.url, updates, path="/engage").body == b"0"
    assert fresh.profiles() == {}


def test_rate_limit_every_nth_request_is_429_without_retry_after(http: HttpClient, fresh: Emulator) -> None:
    fresh.faults = Faults(rate_limit_every=2)
    statuses = [post(http, fresh.url, [mp_event(n)]) for n in range(4)]
    assert [r.status for r in statuses] == [200, 429, 200, 429]
    assert "Retry-After" not in statuses[1].headers
    assert "rate limits" in body(statuses[1])["error"]
    assert fresh.imported_count() == 2


def test_the_project_rate_limit_counts_events_over_a_rolling_window(http: HttpClient) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    faults = Faults(project_events_per_window=5, rate_window_s=1.0)
    with Emulator(project=PROJECT, faults=faults, clock=clock) as emulator:
        assert post(http, emulator.url, [mp_event(n) for n in range(3)]).status == 200
        assert post(http, emulator.url, [mp_event(n) for n in range(3, 6)]).status == 429
        assert post(http, emulator.url, [mp_event(n) for n in range(3, 5)]).status == 200
        clock.advance(1.0)
        assert post(http, emulator.url, [mp_event(n) for n in range(5, 10)]).status == 200
        assert emulator.imported_count() == 10


def test_server_errors_import_nothing(http: HttpClient, fresh: Emulator) -> None:
    fresh.faults = Faults(error_ratio=1.0, error_status=502)
    assert post(http, fresh.url, [mp_event(0)]).status == 502
    assert fresh.stats().events_received == 0


def test_latency_waits_on_the_emulators_clock(http: HttpClient) -> None:
    clock = FakeClock()
    with Emulator(project=PROJECT, faults=Faults(latency_s=2.5), clock=clock) as emulator:
        post(http, emulator.url, [mp_event(0)])
    assert clock.sleeps == [2.5]


def test_a_lost_answer_imports_then_closes_the_connection(http: HttpClient, fresh: Emulator) -> None:
    from deliverator import TransportError

    fresh.faults = Faults(lose_answer_ratio=1.0)
    with pytest.raises(TransportError):
        post(http, fresh.url, [mp_event(0)])
    assert fresh.imported_count() == 1 and fresh.stats().dropped == 1


def test_faults_are_checked_in_range() -> None:
    with pytest.raises(ValueError, match="error_ratio"):
        Faults(error_ratio=2)
    with pytest.raises(ValueError, match="error_status"):
        Faults(error_status=404)
