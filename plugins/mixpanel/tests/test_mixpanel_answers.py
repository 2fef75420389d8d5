"""How each Mixpanel answer becomes per-event results, judged by the core (user filters, the
plugin's parse_response, then classify_error) after a real request to a loopback server."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator import Action, ErrorCode, ErrorResponse, FailureType, HttpClient, HttpResponse, SuccessResponse
from deliverator.testing import Destination, Judgement, RecordedRequest, ScriptedResponse, ScriptedServer
from deliverator_mixpanel import plugin
from deliverator_mixpanel.answers import item_results
from deliverator_mixpanel.wire import batch_kind
from plugins.mixpanel.tests.conftest import API_SECRET, SA_SECRET, SA_USER, TOKEN, settings_table, track


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    answers: list[ScriptedResponse] = []

    def respond(request: RecordedRequest) -> ScriptedResponse:
        return answers.pop(0) if answers else ScriptedResponse(status=200, body={"code": 200})

    with ScriptedServer(respond) as running:
        running.answers = answers  # type: ignore[attr-defined]  # the test's script, set per exchange
        yield running


def exchange(
    server: ScriptedServer, answer: ScriptedResponse, events: list[dict[str, Any]], **settings: Any
) -> tuple[RecordedRequest, list[dict[str, Any]], Judgement]:
    destination = Destination.from_plugins([("mixpanel", plugin)], settings_table(endpoint=server.url, **settings))
    payloads = [destination.build_payload(event) for event in events]
    server.answers.append(answer)  # type: ignore[attr-defined]  # see the fixture
    before = len(server.requests)
    http = HttpClient()
    try:
        response = destination.send_batch(payloads, http)
    finally:
        http.close()
    assert len(server.requests) == before + 1, "send_batch makes exactly one request"
    return server.requests[-1], payloads, destination.judge(payloads, response, None)


EVENTS = [track(n) for n in range(3)]


def insert_ids(payloads: list[dict[str, Any]]) -> list[str]:
    return [payload["properties"]["$insert_id"] for payload in payloads]


def test_events_go_to_import_strict_as_a_json_array_with_the_project_secret(server: ScriptedServer) -> None:
    request, payloads, _ = exchange(server, ScriptedResponse(status=200), EVENTS)
    assert (request.method, request.path) == ("POST", "/import?strict=1")
    assert request.json() == payloads
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{API_SECRET}:".encode()).decode()
    assert request.headers["Content-Type"] == "application/json"


def test_a_service_account_sends_its_project_id(server: ScriptedServer) -> None:
    request, _, _ = exchange(
        server,
        ScriptedResponse(status=200),
        EVENTS,
        api_secret=None,
        service_account_username=SA_USER,
        service_account_secret=SA_SECRET,
        project_id="2195",
    )
    assert request.path == "/import?strict=1&project_id=2195"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SA_USER}:{SA_SECRET}".encode()).decode()


def test_200_means_every_event_was_imported(server: ScriptedServer) -> None:
    body = {"code": 200, "num_records_imported": 3, "status": "OK"}
    _, _, judgement = exchange(server, ScriptedResponse(status=200, body=body), EVENTS)
    assert judgement.statuses is not None and judgement.statuses.success_count == 3


def test_400_with_failed_records_fails_those_keeping_field_and_message_and_delivers_the_rest(
    server: ScriptedServer,
) -> None:
    payloads = [plugin.build_payload(event, None) for event in EVENTS]  # type: ignore[arg-type]  # settings unused for track
    record = {"index": 1, "insert_id": insert_ids(payloads)[1], "field": "properties.time", "message": "too old"}
    body = {"code": 400, "error": "some data points in the request failed validation", "failed_records": [record]}
    _, _, judgement = exchange(server, ScriptedResponse(status=400, body=body), EVENTS)
    statuses = judgement.statuses
    assert judgement.classification.action is Action.SUCCESS and statuses is not None
    assert [statuses.is_success(i) for i in range(3)] == [True, False, True]
    failed = statuses.get(1)
    assert isinstance(failed, ErrorResponse)
    assert (failed.status, failed.errortype) == (400, ErrorCode.PAYLOAD_VALIDATION_FAILED)
    assert failed.errormessage == "properties.time: too old" and not failed.retryable
    assert failed.body == [record]


def test_the_insert_id_decides_when_the_index_points_elsewhere(server: ScriptedServer) -> None:
    payloads = [plugin.build_payload(event, None) for event in EVENTS]  # type: ignore[arg-type]  # settings unused for track
    record = {"index": 0, "$insert_id": insert_ids(payloads)[2], "field": "event", "message": "bad"}
    body = {"code": 400, "failed_records": [record]}
    _, _, judgement = exchange(server, ScriptedResponse(status=400, body=body), EVENTS)
    assert judgement.statuses is not None
    assert [judgement.statuses.is_error(i) for i in range(3)] == [False, False, True]


@pytest.mark.parametrize(
    "records",
    [[{"index": 7}], [{"insert_id": "unknown"}], ["not an object"], [{"index": True}]],
    ids=["index-out-of-range", "unknown-insert-id", "not-an-object", "boolean-index"],
)
def test_failed_records_that_match_no_event_retry_the_whole_batch_as_502(
    server: ScriptedServer, records: list[Any]
) -> None:
    _, _, judgement = exchange(server, ScriptedResponse(status=400, body={"failed_records": records}), EVENTS)
    assert judgement.statuses is not None
    entries = judgement.statuses.responses()
    assert all(isinstance(e, ErrorResponse) and e.status == 502 and e.retryable for e in entries)


@pytest.mark.parametrize(
    "body", [{"code": 400, "error": "Invalid JSON"}, {"failed_records": []}, b"<html>bad</html>", None]
)
def test_400_without_per_item_detail_fails_every_event(server: ScriptedServer, body: Any) -> None:
    _, _, judgement = exchange(server, ScriptedResponse(status=400, body=body), EVENTS)
    assert judgement.statuses is None
    assert judgement.classification.action is Action.FAIL


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_config_failures_that_stop_the_run(server: ScriptedServer, status: int) -> None:
    body = {"code": status, "error": "Invalid credentials", "status": "Unauthorized"}
    _, _, judgement = exchange(server, ScriptedResponse(status=status, body=body), EVENTS)
    classification = judgement.classification
    assert classification.action is Action.FAIL and classification.failure_type is FailureType.CONFIG
    assert classification.stops_run


def test_429_is_rate_limited_in_mixpanels_words(server: ScriptedServer) -> None:
    body = {"code": 429, "error": "Project exceeded rate limits. Please retry the request with exponential backoff."}
    _, _, judgement = exchange(server, ScriptedResponse(status=429, body=body), EVENTS)
    classification = judgement.classification
    assert (classification.action, classification.errortype) == (Action.RATE_LIMITED, ErrorCode.TOO_MANY_REQUESTS)
    assert classification.errormessage is not None and "Project exceeded rate limits" in classification.errormessage


def test_413_splits_the_batch(server: ScriptedServer) -> None:
    body = {"code": 413, "error": "request exceeds max limit of 2097152 bytes"}
    _, _, judgement = exchange(server, ScriptedResponse(status=413, body=body), EVENTS)
    assert judgement.classification.action is Action.SPLIT
    assert "2097152" in (judgement.classification.errormessage or "")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(server: ScriptedServer, status: int) -> None:
    _, _, judgement = exchange(server, ScriptedResponse(status=status, body="<html>oops</html>"), EVENTS)
    assert judgement.classification.action is Action.RETRY


IDENTIFY = [track(n, type="identify", event=None, traits={"n": n}) for n in range(2)]


def test_profile_updates_go_to_engage_verbose(server: ScriptedServer) -> None:
    request, payloads, judgement = exchange(
        server,
        ScriptedResponse(status=200, body={"status": 1, "error": None}),
        IDENTIFY,
        profiles=True,
        project_token=TOKEN,
    )
    assert request.path == "/engage?verbose=1" and request.json() == payloads
    assert "Authorization" not in request.headers  # /engage is authenticated by $token alone
    assert judgement.statuses is not None and judgement.statuses.success_count == 2


def test_engage_status_0_fails_every_update_with_its_message(server: ScriptedServer) -> None:
    _, _, judgement = exchange(
        server,
        ScriptedResponse(status=200, body={"status": 0, "error": "invalid token"}),
        IDENTIFY,
        profiles=True,
        project_token=TOKEN,
    )
    assert judgement.statuses is not None
    entries = judgement.statuses.responses()
    assert all(
        isinstance(e, ErrorResponse) and e.errormessage == "/engage refused the batch: invalid token" for e in entries
    )


@pytest.mark.parametrize("body", [b"", b"maybe", {"status": "weird"}])
def test_an_engage_answer_we_cannot_read_is_retried_as_502(server: ScriptedServer, body: Any) -> None:
    _, _, judgement = exchange(
        server, ScriptedResponse(status=200, body=body), IDENTIFY, profiles=True, project_token=TOKEN
    )
    assert judgement.statuses is not None
    assert all(isinstance(e, ErrorResponse) and e.status == 502 for e in judgement.statuses.responses())


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b'"a string"', b"[]", b"42", b'{"failed_records": {"0": 1}}', b'{"failed_records": [null]}'],
)
@pytest.mark.parametrize("status", [200, 400, 413, 429, 500])
def test_malformed_bodies_never_raise(server: ScriptedServer, raw: bytes, status: int) -> None:
    _, _, judgement = exchange(server, ScriptedResponse(status=status, body=raw), EVENTS)
    if judgement.statuses is not None:
        assert len(judgement.statuses.responses()) == len(EVENTS)
        assert all(isinstance(e, SuccessResponse | ErrorResponse) for e in judgement.statuses.responses())


def test_a_mixed_batch_is_refused_rather_than_sent_to_one_endpoint() -> None:
    payloads = [{"event": "e", "properties": {}}, {"$distinct_id": "u", "$set": {}}]
    with pytest.raises(ValueError, match="two requests"):
        batch_kind(payloads)


@given(st.integers(min_value=1, max_value=20).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1)))))
def test_failed_records_fail_exactly_the_listed_events(case: tuple[int, set[int]]) -> None:
    count, failing = case
    payloads = [plugin.build_payload(track(n), None) for n in range(count)]  # type: ignore[arg-type]  # settings unused for track
    records = [
        {"index": i, ("insert_id", "$insert_id")[i % 2]: payloads[i]["properties"]["$insert_id"], "message": "no"}
        for i in sorted(failing)
    ]
    response = HttpResponse(status=400, body=orjson.dumps({"code": 400, "failed_records": records}))
    statuses = item_results(response, payloads)
    if not failing:
        assert statuses is None  # a 400 listing nothing is about the whole request
        return
    assert statuses is not None and len(statuses.responses()) == count
    assert {i for i in range(count) if statuses.is_error(i)} == failing
    assert all(statuses.is_success(i) for i in range(count) if i not in failing)
