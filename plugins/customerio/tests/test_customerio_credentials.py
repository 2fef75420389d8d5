"""``deliverator check`` for Customer.io against a scripted region endpoint on loopback."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from deliverator import CheckResult, HttpClient
from deliverator.testing import Destination, ScriptedResponse

Answer = Callable[..., ScriptedResponse]


@pytest.fixture
def check(
    make_destination: Callable[..., Destination], http: HttpClient, service: Callable[..., Any]
) -> Callable[..., tuple[CheckResult, list[Any]]]:
    """Run the credentials check against a server giving ``response``."""

    def run(response: ScriptedResponse, **overrides: Any) -> tuple[CheckResult, list[Any]]:
        server = service(response)
        result = make_destination(endpoint=server.url, **overrides).check_credentials(http)
        assert result is not None
        return result, list(server.requests)

    return run


Check = Callable[..., tuple[CheckResult, list[Any]]]


REGION_US = {"url": "https://track.customer.io", "region": "us", "environment_id": 4242}
REGION_EU = {"url": "https://track-eu.customer.io", "region": "eu", "environment_id": 77}


def test_check_gets_the_region_endpoint_with_basic_auth(check: Check, site_id: str, api_key: str) -> None:
    _, (request,) = check(ScriptedResponse(status=200, body=REGION_US))
    assert (request.method, request.path) == ("GET", "/api/v1/accounts/region")
    expected = base64.b64encode(f"{site_id}:{api_key}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_accepted_credentials_name_region_and_workspace(check: Check, body_form: Answer) -> None:
    result, _ = check(body_form(200, REGION_US))
    assert result.ok
    assert "'us'" in result.message and "4242" in result.message
    assert result.details == REGION_US
    assert result.warnings == ()


def test_account_in_the_other_region_warns(check: Check, body_form: Answer) -> None:
    result, _ = check(body_form(200, REGION_EU), region="us")
    assert result.ok
    (warning,) = result.warnings
    assert warning.startswith("configured region 'us' but the account is in 'eu'")
    assert "https://track-eu.customer.io" in warning


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_are_not_ok(check: Check, status: int, api_key: str) -> None:
    result, _ = check(ScriptedResponse(status=status))
    assert not result.ok
    assert result.message.startswith("credentials rejected: check site_id and api_key")
    assert api_key not in result.message


def test_unreachable_service_is_not_ok_and_says_why(check: Check) -> None:
    result, _ = check(ScriptedResponse(drop=True))
    assert not result.ok
    assert result.message.startswith("could not reach Customer.io at http://127.0.0.1:")


def test_server_error_is_not_ok_and_quotes_the_body(check: Check) -> None:
    result, _ = check(ScriptedResponse(status=500, body={"message": "down for repairs"}))
    assert not result.ok
    assert "HTTP 500" in result.message and "down for repairs" in result.message


def test_redirect_is_not_ok(check: Check) -> None:
    result, _ = check(
        ScriptedResponse(status=301, headers={"Location": "https://track-eu.customer.io/api/v1/accounts/region"}),
    )
    assert not result.ok
    assert "track-eu.customer.io" in result.message


def test_accepted_without_a_readable_body_is_ok_with_a_warning(check: Check) -> None:
    result, _ = check(ScriptedResponse(status=200, body=b"OK"))
    assert result.ok
    assert result.warnings
