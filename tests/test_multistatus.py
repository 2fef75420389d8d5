"""MultiStatusResponse and its item types, as Segment's model describes them."""

from __future__ import annotations

import pytest

from deliverator import ErrorCode, ErrorResponse, MultiStatusResponse, SuccessResponse


def test_error_without_errortype_takes_the_name_of_its_status() -> None:
    assert ErrorResponse(status=404, errormessage="gone").errortype is ErrorCode.NOT_FOUND


def test_error_with_unknown_status_is_unknown_error() -> None:
    assert ErrorResponse(status=299, errormessage="odd").errortype is ErrorCode.UNKNOWN_ERROR


def test_error_accepts_errortype_by_name() -> None:
    error = ErrorResponse(status=400, errortype="PAYLOAD_VALIDATION_FAILED", errormessage="x")
    assert error.errortype is ErrorCode.PAYLOAD_VALIDATION_FAILED


def test_error_rejects_an_unknown_errortype_name() -> None:
    with pytest.raises(ValueError, match="unknown errortype 'NOPE'"):
        ErrorResponse(status=400, errortype="NOPE", errormessage="x")


def test_set_past_the_end_grows_the_list_and_leaves_gaps_unset() -> None:
    statuses = MultiStatusResponse()
    statuses.set_error(3, status=400, errormessage="bad")
    assert statuses.len() == 4
    assert statuses.responses()[:3] == [None, None, None]
    assert statuses.is_error(3)
    assert not statuses.is_success(0)
    assert not statuses.is_error(0)


def test_plain_mappings_are_accepted_everywhere() -> None:
    statuses = MultiStatusResponse()
    statuses.set_success(0, {"status": 200, "sent": {"a": 1}})
    statuses.push_error({"status": 429, "errormessage": "slow down"})
    statuses.push({"status": 201, "body": "ok"})
    statuses.push({"status": 400, "errormessage": "nope"})
    assert [type(r) for r in statuses.responses()] == [SuccessResponse, ErrorResponse, SuccessResponse, ErrorResponse]
    error = statuses.get(1)
    assert isinstance(error, ErrorResponse)
    assert error.errortype is ErrorCode.TOO_MANY_REQUESTS
    assert error.retryable


def test_counts_and_unset() -> None:
    statuses = MultiStatusResponse()
    statuses.push_success(status=200)
    statuses.push_success(status=200)
    statuses.push_error(status=500, errormessage="boom")
    assert (statuses.success_count, statuses.error_count) == (2, 1)
    statuses.unset(0)
    assert statuses.get(0) is None
    assert (statuses.success_count, statuses.error_count, len(statuses)) == (1, 1, 3)


def test_get_past_the_end_is_none() -> None:
    assert MultiStatusResponse().get(5) is None


def test_negative_index_is_refused() -> None:
    with pytest.raises(IndexError):
        MultiStatusResponse().set_success(-1, status=200)


def test_values_are_immutable() -> None:
    success = SuccessResponse(status=200)
    with pytest.raises(AttributeError):
        success.status = 500  # type: ignore[misc]  # the point of the test: frozen
