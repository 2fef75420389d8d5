"""Every answer Customer.io can give to a batch, over a real loopback server, through the
plugin's send_batch + classify_error + parse_response as the core calls them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deliverator import Action, ErrorCode, ErrorResponse, SuccessResponse, TransportError
from deliverator.testing import ScriptedResponse
from deliverator_customerio import plugin

Answer = Callable[..., ScriptedResponse]


def _errors(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"errors": list(entries)}


def _entry(index: Any, message: str = "bad", reason: str = "invalid", field: str = "name") -> dict[str, Any]:
    return {"batch_index": index, "reason": reason, "field": field, "message": message}


# --- everything accepted --------------------------------------------------------------------


@pytest.mark.parametrize("value", [{}, {"errors": []}], ids=["empty-object", "empty-errors"])
def test_200_without_errors_delivers_every_item(send_batch: Any, body_form: Answer, value: Any) -> None:
    exchange = send_batch(body_form(200, value))
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    responses = exchange.results.responses()
    assert [type(r) for r in responses] == [SuccessResponse] * 3
    assert [r.sent for r in responses] == exchange.payloads
    assert all(r.status == 200 and r.body == value for r in responses)


def test_200_with_an_empty_body_delivers_every_item(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=200, body=b""))
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    assert exchange.results.success_count == 3
    assert all(r is not None and r.body is None for r in exchange.results.responses())


def test_207_with_an_empty_errors_array_delivers_every_item(send_batch: Any, body_form: Answer) -> None:
    exchange = send_batch(body_form(207, {"errors": []}))
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    assert exchange.results.success_count == 3


# --- some items refused -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 207])
def test_errors_fail_only_the_named_items(send_batch: Any, body_form: Answer, status: int) -> None:
    body = _errors(_entry(0, "name is required", "required"), _entry(2, "id is not a ULID", "invalid", "id"))
    exchange = send_batch(body_form(status, body))
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    first, second, third = exchange.results.responses()
    assert isinstance(first, ErrorResponse) and isinstance(third, ErrorResponse)
    assert isinstance(second, SuccessResponse)
    assert (first.status, first.errortype, first.errormessage) == (
        400,
        ErrorCode.PAYLOAD_VALIDATION_FAILED,
        "name is required",
    )
    assert (third.status, third.errormessage) == (400, "id is not a ULID")
    assert first.sent == exchange.payloads[0] and third.sent == exchange.payloads[2]
    assert first.body == [body["errors"][0]] and third.body == [body["errors"][1]]
    assert second.sent == exchange.payloads[1] and second.status == 200


def test_207_with_two_errors_for_one_item_keeps_both_messages_in_order(send_batch: Any, body_form: Answer) -> None:
    entries = [_entry(1, "name too long"), _entry(1, "attribute value too long", "too_long", "attributes.x")]
    exchange = send_batch(body_form(207, _errors(*entries)))
    assert exchange.results is not None
    refused = exchange.results.get(1)
    assert isinstance(refused, ErrorResponse)
    assert refused.errormessage == "name too long; attribute value too long"
    assert refused.body == entries
    assert exchange.results.success_count == 2


@pytest.mark.parametrize(
    ("reasons", "errortype"),
    [
        (["invalid"], ErrorCode.PAYLOAD_VALIDATION_FAILED),
        (["required"], ErrorCode.PAYLOAD_VALIDATION_FAILED),
        (["Invalid"], ErrorCode.PAYLOAD_VALIDATION_FAILED),
        (["too_long"], ErrorCode.UNKNOWN_ERROR),
        (["duplicate"], ErrorCode.UNKNOWN_ERROR),
        (["duplicate", "required"], ErrorCode.PAYLOAD_VALIDATION_FAILED),
    ],
)
def test_207_reason_decides_the_error_type(
    send_batch: Any, body_form: Answer, reasons: list[str], errortype: ErrorCode
) -> None:
    exchange = send_batch(body_form(207, _errors(*(_entry(0, reason=r) for r in reasons))))
    assert exchange.results is not None
    refused = exchange.results.get(0)
    assert isinstance(refused, ErrorResponse) and refused.errortype is errortype


def test_207_entry_without_message_is_described_by_reason_and_field(send_batch: Any) -> None:
    body = _errors({"batch_index": 0, "reason": "required", "field": "identifiers"})
    exchange = send_batch(ScriptedResponse(status=207, body=body))
    assert exchange.results is not None
    refused = exchange.results.get(0)
    assert isinstance(refused, ErrorResponse) and refused.errormessage == "required: identifiers"


def test_refused_items_are_not_retryable_by_default(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=207, body=_errors(_entry(0))))
    assert exchange.results is not None
    refused = exchange.results.get(0)
    assert isinstance(refused, ErrorResponse) and not refused.retryable


# --- answers that cannot be mapped ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "value"),
    [
        (207, {}),
        (207, {"errors": None}),
        (207, {"errors": "something failed"}),
        (207, {"errors": [{"reason": "invalid", "message": "no index"}]}),
        (207, {"errors": [_entry("1")]}),
        (207, {"errors": [_entry(1.0)]}),
        (207, {"errors": [_entry(True)]}),
        (207, {"errors": [_entry(-1)]}),
        (207, {"errors": ["not an object"]}),
        (207, ["a list"]),
        (200, {"errors": "something failed"}),
        (200, {"errors": [{"reason": "invalid", "message": "no index"}]}),
    ],
    ids=[
        "207-no-errors",
        "207-null-errors",
        "207-errors-string",
        "207-no-index",
        "207-string-index",
        "207-float-index",
        "207-bool-index",
        "207-negative-index",
        "207-entry-not-object",
        "207-body-list",
        "200-errors-string",
        "200-no-index",
    ],
)
def test_unmappable_2xx_is_retried_as_bad_gateway(send_batch: Any, body_form: Answer, status: int, value: Any) -> None:
    exchange = send_batch(body_form(status, value))
    assert_every_item_is_a_retryable_bad_gateway(exchange, "cannot be matched")


@pytest.mark.parametrize("status", [200, 207])
def test_2xx_with_a_body_that_is_not_json_is_retried_as_bad_gateway(send_batch: Any, status: int) -> None:
    exchange = send_batch(
        ScriptedResponse(status=status, body=b"<html>gateway</html>", headers={"Content-Type": "text/html"})
    )
    assert_every_item_is_a_retryable_bad_gateway(exchange, "not JSON")


def test_207_with_an_empty_body_is_retried_as_bad_gateway(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=207, body=b""))
    assert_every_item_is_a_retryable_bad_gateway(exchange, "empty body")


def assert_every_item_is_a_retryable_bad_gateway(exchange: Any, words: str) -> None:
    """An answer that cannot be matched to the items sends every item again as a 502."""
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    responses = exchange.results.responses()
    assert len(responses) == len(exchange.payloads)
    for response in responses:
        assert isinstance(response, ErrorResponse)
        assert (response.status, response.errortype) == (502, ErrorCode.BAD_GATEWAY)
        assert response.retryable
        assert words in response.errormessage


def test_207_index_past_the_end_marks_every_item_retryable_bad_gateway(send_batch: Any, body_form: Answer) -> None:
    exchange = send_batch(body_form(207, _errors(_entry(0), _entry(3))))
    assert exchange.classification.action is Action.SUCCESS
    assert exchange.results is not None
    responses = exchange.results.responses()
    assert len(responses) == 3
    for response, payload in zip(responses, exchange.payloads, strict=True):
        assert isinstance(response, ErrorResponse)
        assert (response.status, response.errortype) == (502, ErrorCode.BAD_GATEWAY)
        assert response.retryable
        assert response.sent == payload
        assert "batch_index 3" in response.errormessage


# --- whole-request failures -------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_transient_statuses_retry_the_whole_batch(send_batch: Any, status: int) -> None:
    exchange = send_batch(ScriptedResponse(status=status, body={"message": "try later"}))
    assert exchange.classification.action is Action.RETRY
    assert exchange.classification.status == status
    assert "try later" in (exchange.classification.errormessage or "")


def test_429_is_rate_limited(send_batch: Any, body_form: Answer) -> None:
    exchange = send_batch(body_form(429, {"message": "slow down"}, {"Retry-After": "2"}))
    classification = exchange.classification
    assert classification.action is Action.RATE_LIMITED
    assert (classification.status, classification.errortype) == (429, ErrorCode.TOO_MANY_REQUESTS)
    assert "slow down" in (classification.errormessage or "")


def test_413_splits_the_batch(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=413, body=b"Request Entity Too Large"))
    classification = exchange.classification
    assert classification.action is Action.SPLIT
    assert (classification.status, classification.errortype) == (413, ErrorCode.PAYLOAD_TOO_LARGE)


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_fail_with_advice(send_batch: Any, status: int, api_key: str) -> None:
    exchange = send_batch(ScriptedResponse(status=status, body={"meta": {"error": "Unauthorized request"}}))
    classification = exchange.classification
    assert classification.action is Action.FAIL
    assert (classification.status, classification.errortype) == (status, ErrorCode.INVALID_AUTHENTICATION)
    message = classification.errormessage or ""
    assert all(word in message for word in ("site_id", "api_key", "region"))
    assert api_key not in message


def test_400_fails_every_item_with_the_message_from_the_body(send_batch: Any, body_form: Answer) -> None:
    body = _errors({"reason": "invalid", "field": "batch", "message": "batch must be an array"})
    exchange = send_batch(body_form(400, body))
    classification = exchange.classification
    assert classification.action is Action.FAIL
    assert (classification.status, classification.errortype) == (400, ErrorCode.BAD_REQUEST)
    assert "batch must be an array" in (classification.errormessage or "")


@pytest.mark.parametrize(
    ("status", "errortype"),
    [(404, ErrorCode.NOT_FOUND), (422, ErrorCode.UNPROCESSABLE_ENTITY), (501, ErrorCode.NOT_IMPLEMENTED)],
)
def test_other_error_statuses_fail_with_the_status_error_type(
    send_batch: Any, status: int, errortype: ErrorCode
) -> None:
    exchange = send_batch(ScriptedResponse(status=status, body={"message": "nope"}))
    classification = exchange.classification
    assert classification.action is Action.FAIL
    assert (classification.status, classification.errortype) == (status, errortype)
    assert "nope" in (classification.errormessage or "")


def test_redirect_to_the_eu_host_fails_saying_the_account_is_in_the_eu(send_batch: Any) -> None:
    location = "https://track-eu.customer.io/api/v2/batch"
    exchange = send_batch(ScriptedResponse(status=301, headers={"Location": location}))
    classification = exchange.classification
    assert classification.action is Action.FAIL
    assert classification.status == 301
    message = classification.errormessage or ""
    assert location in message and 'region = "eu"' in message
    assert len(exchange.requests) == 1  # never followed


def test_redirect_without_a_known_host_still_fails_and_names_the_setting(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=307, headers={"Location": "https://elsewhere.example/x"}))
    assert exchange.classification.action is Action.FAIL
    assert "check region and endpoint" in (exchange.classification.errormessage or "")


def test_plugin_leaves_exceptions_to_the_core(make_destination: Any) -> None:
    settings = make_destination().settings
    assert plugin.classify_error(response=None, error=ConnectionError("boom"), settings=settings) is None


def test_dropped_connection_is_retried_by_the_core_default(make_destination: Any, http: Any, service: Any) -> None:
    server = service(ScriptedResponse(drop=True))
    destination = make_destination(endpoint=server.url)
    with pytest.raises(TransportError) as raised:
        destination.send_batch([{"type": "person"}], http)
    assert destination.classify(error=raised.value).action is Action.RETRY
