"""Response filters: what matches (any condition, first filter wins), what they decide, and
how they rank against the destination's and the core's classify_error."""

from __future__ import annotations

from typing import Any

import pytest

from deliverator._classification import Action, Classification
from deliverator._destination import new_plugin_manager, register_checked
from deliverator._errorhandling import ConfiguredErrorHandler, error_handler_plugin, parse_error_handler
from deliverator._hookspecs import hookimpl
from deliverator._http import HttpResponse, TransportError
from tests.errorhandling.helpers import response


def handler(*filters: dict[str, Any]) -> ConfiguredErrorHandler:
    built = error_handler_plugin(parse_error_handler({"response_filters": list(filters)}))
    assert built is not None
    return built


def classify(
    h: ConfiguredErrorHandler, resp: HttpResponse | None, error: BaseException | None = None
) -> Classification | None:
    return h.classify_error(response=resp, error=error, settings=None)


def action_of(h: ConfiguredErrorHandler, resp: HttpResponse) -> Action | None:
    result = classify(h, resp)
    return None if result is None else result.action


@pytest.mark.parametrize(
    ("rule", "resp", "expected"),
    [
        ({"http_codes": [403], "action": "RETRY"}, response(403), Action.RETRY),
        ({"http_codes": [403], "action": "RETRY"}, response(404), None),
        ({"http_codes": [400, 401], "action": "FAIL"}, response(401), Action.FAIL),
        (
            {"error_message_contains": "slow down", "action": "RATE_LIMITED"},
            response(403, {"message": "please slow down"}),
            Action.RATE_LIMITED,
        ),
        (
            {"error_message_contains": "slow down", "action": "RATE_LIMITED"},
            response(403, {"message": "Slow Down"}),
            None,
        ),
        ({"error_message_contains": "busy", "action": "RETRY"}, response(503, "server busy, try later"), Action.RETRY),
        ({"predicate": "{{ response.code == 300 }}", "action": "IGNORE"}, response(200, {"code": 300}), Action.IGNORE),
        ({"predicate": "{{ response.code == 300 }}", "action": "IGNORE"}, response(200, {"code": 200}), None),
        ({"predicate": "{{ response.code == 300 }}", "action": "IGNORE"}, response(200, "not json"), None),
        (
            {"predicate": "{{ response.code == 300 }}", "action": "IGNORE"},
            response(200, '"{\\"code\\": 300}"'),
            Action.IGNORE,
        ),
        (
            {"predicate": "{{ headers['x-state'] == 'busy' }}", "action": "RETRY"},
            response(200, headers={"X-State": "busy"}),
            Action.RETRY,
        ),
        ({"predicate": "{{ status >= 500 }}", "action": "FAIL"}, response(502), Action.FAIL),
        (
            {"predicate": "{{ response[0].ok == false }}", "action": "RETRY"},
            response(200, [{"ok": False}]),
            Action.RETRY,
        ),
        (
            {"predicate": "{{ 'queued' in response }}", "action": "RETRY"},
            response(200, '"queued for later"'),
            Action.RETRY,
        ),
    ],
    ids=[
        "code-listed",
        "code-not-listed",
        "one-of-several-codes",
        "message-substring",
        "message-is-case-sensitive",
        "raw-text-body",
        "predicate-true",
        "predicate-false",
        "predicate-on-non-json-body",
        "predicate-on-json-string-body",
        "headers-case-insensitive",
        "status-name",
        "list-body",
        "string-body",
    ],
)
def test_filter_matching(rule: dict[str, Any], resp: HttpResponse, expected: Action | None) -> None:
    assert action_of(handler(rule), resp) == expected


@pytest.mark.parametrize(
    ("body", "contained", "matches"),
    [
        ({"error": "A", "message": "B"}, "B", True),
        ({"error": "A", "message": "B"}, "A", False),
        ({"message": "", "error": "E"}, "E", True),
        ({"errors": ["first", "second"]}, "first, second", True),
        ({"detail": "D", "err": "X"}, "D", True),
        ({"status_message": "quota", "reason": "R"}, "R", True),
        ({"status_message": "quota", "reason": "R"}, "quota", False),
        ({"failures": [{"message": "nested"}]}, "nested", True),
        ({"other": "field holds needle"}, "needle", True),
    ],
    ids=[
        "message-before-error",
        "error-shadowed",
        "empty-skipped",
        "list-joined",
        "detail-before-err",
        "reason-before-status_message",
        "status_message-shadowed",
        "nested-message",
        "no-known-key-raw-text",
    ],
)
def test_error_message_contains_searches_the_error_text_in_airbytes_key_order(
    body: dict[str, Any], contained: str, matches: bool
) -> None:
    h = handler({"error_message_contains": contained, "action": "FAIL"})
    assert (action_of(h, response(400, body)) is Action.FAIL) is matches


@pytest.mark.parametrize(
    ("resp", "expected"),
    [
        (response(500), Action.RETRY),
        (response(200, {"message": "quota exceeded"}), Action.RETRY),
        (response(200, {"retry": True}), Action.RETRY),
        (response(200, {"message": "fine"}), None),
    ],
    ids=["by-code", "by-message", "by-predicate", "none-holds"],
)
def test_a_filter_matches_when_any_condition_holds(resp: HttpResponse, expected: Action | None) -> None:
    h = handler(
        {
            "http_codes": [500],
            "error_message_contains": "quota",
            "predicate": "{{ response.retry }}",
            "action": "RETRY",
        }
    )
    assert action_of(h, resp) == expected


@pytest.mark.parametrize("action", ["RETRY", "FAIL", "IGNORE", "RATE_LIMITED"])
def test_a_2xx_can_be_turned_into_any_action(action: str) -> None:
    h = handler({"http_codes": [200], "predicate": "{{ response.status == 'deferred' }}", "action": action})
    assert action_of(h, response(200, {"status": "deferred"})) == Action(action)


def test_a_filter_can_declare_a_failure_a_success() -> None:
    h = handler({"http_codes": [409], "action": "SUCCESS"})
    assert action_of(h, response(409, {"message": "already exists"})) is Action.SUCCESS


def test_first_matching_filter_wins() -> None:
    h = handler(
        {"http_codes": [429], "action": "FAIL", "error_message": "first"},
        {"http_codes": [429], "action": "RETRY", "error_message": "second"},
    )
    assert classify(h, response(429)) == Classification(action=Action.FAIL, errormessage="first")


def test_a_fail_filter_stops_the_search() -> None:
    # Airbyte's composite handler kept looking after a FAIL; the first match is final here.
    h = handler({"http_codes": [500], "action": "FAIL"}, {"predicate": "{{ true }}", "action": "SUCCESS"})
    assert action_of(h, response(500)) is Action.FAIL


def test_exceptions_never_match_a_filter() -> None:
    h = handler({"predicate": "{{ true }}", "action": "IGNORE"})
    assert classify(h, None, TransportError("connect", "connection refused")) is None


def test_no_matching_filter_leaves_the_decision_to_others() -> None:
    h = handler({"http_codes": [418], "action": "IGNORE"})
    assert classify(h, response(500)) is None


def test_lower_case_action_names_are_accepted() -> None:
    assert action_of(handler({"http_codes": [418], "action": "ignore"}), response(418)) is Action.IGNORE


@pytest.mark.parametrize(
    ("template", "body", "expected"),
    [
        ("Customer.io asked us to slow down", {}, "Customer.io asked us to slow down"),
        ("{{ response.message }} (HTTP {{ status }})", {"message": "quota"}, "quota (HTTP 429)"),
        ("{{ response.missing }}", {}, None),
        ("   ", None, None),
        ("{{ response.message.nope() }}", {"message": "x"}, None),
    ],
    ids=["plain-text", "template", "renders-empty", "blank", "render-error"],
)
def test_error_message_is_the_rendered_template_or_none(template: str, body: Any, expected: str | None) -> None:
    rule: dict[str, Any] = {"http_codes": [429], "action": "FAIL"}
    if template.strip():
        rule["error_message"] = template
    result = classify(handler(rule), response(429, body))
    assert result is not None and result.errormessage == expected


def test_error_message_is_bounded() -> None:
    result = classify(
        handler({"http_codes": [500], "action": "FAIL", "error_message": "{{ response.blob }}"}),
        response(500, {"blob": "x" * 100_000}),
    )
    assert result is not None and result.errormessage is not None and len(result.errormessage) == 4096


def test_without_filters_there_is_no_plugin() -> None:
    assert error_handler_plugin(parse_error_handler({"max_retries": 2})) is None
    assert error_handler_plugin(parse_error_handler(None)) is None


class _Destination:
    """A destination with its own opinion: 503 means FAIL, 418 means IGNORE."""

    @hookimpl
    def classify_error(
        self, response: HttpResponse | None, error: BaseException | None, settings: Any
    ) -> Classification | None:
        if response is not None and response.status == 503:
            return Classification(action=Action.FAIL, errormessage="destination says no")
        return None


@pytest.mark.parametrize(
    ("resp", "action", "message"),
    [
        (response(503), Action.RETRY, "user filter"),
        (response(503, {"message": "other"}), Action.FAIL, "destination says no"),
        (response(500, {"message": "other"}), Action.RETRY, "HTTP 500: other"),
        (response(200), Action.SUCCESS, None),
    ],
    ids=["user-filter-first", "then-destination", "then-core-defaults", "defaults-success"],
)
def test_precedence_user_filters_then_destination_then_core_defaults(
    resp: HttpResponse, action: Action, message: str | None
) -> None:
    pm = new_plugin_manager()
    user = handler(
        {"predicate": "{{ status == 503 and not response.message }}", "action": "RETRY", "error_message": "user filter"}
    )
    # Registered before the destination: only tryfirst puts it in front.
    register_checked(pm, user, "deliverator.error_handler")
    register_checked(pm, _Destination(), "destination")
    result = pm.hook.classify_error(response=resp, error=None, settings=None)
    assert result.action is action
    assert result.errormessage == message
