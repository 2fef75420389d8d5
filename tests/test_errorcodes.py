"""ErrorCode: Segment's names, correctly spelled, and the status table."""

from __future__ import annotations

import pytest

from deliverator import ErrorCode
from deliverator._errorcodes import CUSTOM_CODES, HTTP_STATUS_CODES, is_retryable, is_retryable_status


def test_there_are_66_http_names_and_12_custom_names() -> None:
    assert len(set(HTTP_STATUS_CODES.values())) == 66
    assert len(CUSTOM_CODES) == 12


def test_every_member_value_is_its_name() -> None:
    assert all(code.value == code.name for code in ErrorCode)


def test_moved_permanently_is_spelled_correctly() -> None:
    assert ErrorCode.for_status(301) is ErrorCode.MOVED_PERMANENTLY
    assert not hasattr(ErrorCode, "MOVED_PERMENANTLY")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ErrorCode.BAD_REQUEST),
        (401, ErrorCode.UNAUTHORIZED),
        (413, ErrorCode.PAYLOAD_TOO_LARGE),
        (429, ErrorCode.TOO_MANY_REQUESTS),
        (499, ErrorCode.CANCELLED),
        (500, ErrorCode.INTERNAL_SERVER_ERROR),
        (529, ErrorCode.SITE_IS_OVERLOADED),
        (299, ErrorCode.UNKNOWN_ERROR),
        (999, ErrorCode.UNKNOWN_ERROR),
    ],
)
def test_status_table(status: int, code: ErrorCode) -> None:
    assert ErrorCode.for_status(status) is code


@pytest.mark.parametrize("status", [408, 423, 429, 500, 502, 503, 504, 529, 599])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 413, 422, 501])
def test_statuses_that_are_not_retried(status: int) -> None:
    assert not is_retryable_status(status)


def test_retryable_error_type_makes_any_status_retryable() -> None:
    assert is_retryable(400, ErrorCode.RETRYABLE_ERROR)
    assert not is_retryable(400, ErrorCode.BAD_REQUEST)
