"""How each answer of ``POST /2/httpapi`` becomes per-event results, judged by the core's
``Destination.judge`` from a real loopback answer: 200; 400 naming events (nothing ingested:
the named fail, the rest are sent again); 429 naming throttled users, devices and events
(per item, with retry_after_s, never a whole-request RATE_LIMITED); 413; 401 and the
"Invalid API key" 400 (config errors that stop the run); 5xx; malformed bodies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from deliverator import Action, ErrorCode, ErrorResponse, FailureType, SuccessResponse
from deliverator.testing import ScriptedResponse, deliver_events


def entries(exchange: Any) -> list[Any]:
    statuses = exchange.judgement.statuses
    assert statuses is not None and exchange.judgement.classification.action is Action.SUCCESS
    assert len(statuses) == len(exchange.payloads)
    return list(statuses.responses())


def test_the_request_is_one_post_with_the_key_and_options_in_the_body(exchange: Any, api_key: str) -> None:
    sent = exchange(200, {"code": 200, "events_ingested": 3}, min_id_length=3)
    assert len(sent.requests) == 1
    request = sent.requests[0]
    assert (request.method, request.path) == ("POST", "/2/httpapi")
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {"api_key": api_key, "options": {"min_id_length": 3}, "events": sent.payloads}


def test_200_delivers_every_event(exchange: Any) -> None:
    body = {"code": 200, "events_ingested": 3, "payload_size_bytes": 500, "server_upload_time": 1}
    results = entries(exchange(200, body))
    assert all(type(r) is SuccessResponse and r.status == 200 and r.body == body for r in results)


def test_a_400_naming_events_fails_them_and_sends_the_others_again(exchange: Any) -> None:
    body = {
        "code": 400,
        "error": "Invalid field values on some events",
        "events_with_invalid_fields": {"time": [0], "user_id": [0]},
        "events_with_missing_fields": {"event_type": [2]},
    }
    first, second, third = entries(exchange(400, body))
    assert isinstance(first, ErrorResponse) and not first.retryable
    assert first.errortype is ErrorCode.PAYLOAD_VALIDATION_FAILED
    assert first.errormessage == "Amplitude refused the event: time invalid; user_id invalid"
    assert third.errormessage == "Amplitude refused the event: event_type missing"
    assert isinstance(second, ErrorResponse) and second.retryable and second.retry_after_s is None
    assert second.errortype is ErrorCode.RETRYABLE_ERROR
    assert "not ingested" in second.errormessage


def test_a_400_naming_short_ids_and_silenced_devices_fails_those_events(exchange: Any) -> None:
    body = {"code": 400, "events_with_invalid_id_lengths": {"device_id": [1]}, "silenced_events": [2]}
    results = entries(exchange(400, body))
    assert [r.retryable for r in results] == [True, False, False]
    assert "device_id too short" in results[1].errormessage
    assert "silenced" in results[2].errormessage


def test_a_bare_index_is_read_as_a_list_of_one(exchange: Any) -> None:
    results = entries(exchange(400, {"code": 400, "events_with_invalid_fields": {"time": 1}}))
    assert [r.retryable for r in results] == [True, False, True]


def test_a_429_throttles_the_named_users_for_30_s_and_sends_the_others_at_once(exchange: Any) -> None:
    body = {
        "code": 429,
        "error": "Too many requests for some devices and users",
        "eps_threshold": 30,
        "throttled_users": {"user-001": 41.5},
        "throttled_devices": {},
        "throttled_events": [1],
    }
    sent = exchange(429, body)
    assert sent.judgement.classification.action is Action.SUCCESS  # per item: the pacer is not slowed
    first, second, third = entries(sent)
    assert isinstance(second, ErrorResponse) and second.retryable
    assert (second.status, second.errortype, second.retry_after_s) == (429, ErrorCode.TOO_MANY_REQUESTS, 30.0)
    assert second.errormessage == (
        "throttled: user 'user-001' sent 41.5 events/s (Amplitude's limit is 30 events/s); sent again in 30 s"
    )
    for other in (first, third):
        assert isinstance(other, ErrorResponse) and other.retryable and other.retry_after_s is None


def test_a_throttled_device_or_event_index_is_throttled_too(exchange: Any) -> None:
    events = [
        {"type": "track", "anonymousId": "phone-123", "event": "x", "messageId": "a"},
        {"type": "track", "userId": "user-9", "event": "x", "messageId": "b"},
        {"type": "track", "userId": "user-8", "event": "x", "messageId": "c"},
    ]
    body = {"code": 429, "throttled_devices": {"phone-123": 31}, "throttled_events": [0, 2]}
    results = entries(exchange(429, body, events=events))
    assert [r.retry_after_s for r in results] == [30.0, None, 30.0]


def test_a_user_over_its_daily_quota_waits_a_day(exchange: Any) -> None:
    body = {"code": 429, "exceeded_daily_quota_users": {"user-000": 500001}}
    first, *_ = entries(exchange(429, body))
    assert first.retry_after_s == 86_400.0
    assert "daily quota" in first.errormessage


def test_a_429_without_detail_rate_limits_the_whole_request(exchange: Any) -> None:
    sent = exchange(429, {"code": 429, "error": "Too many requests"})
    assert sent.judgement.statuses is None
    assert sent.judgement.classification.action is Action.RATE_LIMITED


@pytest.mark.parametrize(
    "body",
    [
        {"code": 400, "error": "Invalid JSON request body"},
        {"code": 400, "error": "Request missing required field", "missing_field": "events"},
        {"code": 400, "events_with_invalid_fields": {"time": [3]}},
        {"code": 400, "events_with_invalid_fields": {"time": ["0"]}},
        {"code": 400, "events_with_invalid_fields": [0]},
        b"<html>bad request</html>",
        b"",
    ],
)
def test_a_400_that_names_no_event_of_the_batch_fails_every_event(exchange: Any, body: Any) -> None:
    sent = exchange(400, body)
    classification = sent.judgement.classification
    assert sent.judgement.statuses is None
    assert (classification.action, classification.status, classification.errortype) == (
        Action.FAIL,
        400,
        ErrorCode.BAD_REQUEST,
    )
    assert not classification.stops_run


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"code": 400, "error": "Invalid API key"}),
        (400, {"code": 400, "error": "Request missing required field", "missing_field": "api_key"}),
        (401, {"code": 401, "error": "Unauthorized"}),
        (403, b"blocked"),
    ],
)
def test_a_refused_key_is_a_config_error_that_stops_the_run(exchange: Any, status: int, body: Any) -> None:
    classification = exchange(status, body).judgement.classification
    assert classification.action is Action.FAIL and classification.stops_run
    assert classification.failure_type is FailureType.CONFIG
    assert classification.errortype is ErrorCode.INVALID_AUTHENTICATION
    assert "check api_key and region" in (classification.errormessage or "")


def test_a_key_echoed_by_the_server_is_masked_before_the_core_sees_the_answer(switchboard: Any, api_key: str) -> None:
    switchboard.answer = ScriptedResponse(status=400, body={"code": 400, "error": f"Invalid API key: {api_key}"})
    event = {"type": "track", "userId": "user-1", "event": "x", "messageId": "m-1"}
    (outcome,) = deliver_events([event], "amplitude", {"api_key": api_key, "endpoint": switchboard.server.url})
    assert outcome["outcome"] == "failed" and outcome["errortype"] == "INVALID_AUTHENTICATION"
    assert api_key not in orjson.dumps(outcome).decode()
    assert outcome["body"] == {"code": 400, "error": "Invalid API key: ********"}


def test_413_splits_the_batch(exchange: Any) -> None:
    classification = exchange(413, {"code": 413, "error": "Payload too large"}).judgement.classification
    assert (classification.action, classification.errortype) == (Action.SPLIT, ErrorCode.PAYLOAD_TOO_LARGE)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_408_retry_the_whole_batch(exchange: Any, status: int) -> None:
    assert exchange(status, b"").judgement.classification.action is Action.RETRY


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'"a string"', b"[1]", b"null", orjson.dumps({"code": 429, "throttled_users": [1]})],
)
def test_malformed_429_bodies_never_raise_and_rate_limit_the_request(exchange: Any, body: bytes) -> None:
    sent = exchange(429, body)
    assert sent.judgement.classification.action is Action.RATE_LIMITED
