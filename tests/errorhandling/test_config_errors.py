"""``[error_handler]`` parsing: every mistake is a ConfigError naming the place and the value;
good tables build the expected strategies and filters."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from deliverator._classification import Action
from deliverator._errorhandling import (
    ConstantBackoff,
    ErrorHandlerConfig,
    ExponentialBackoff,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
    parse_error_handler,
)
from deliverator._errors import ConfigError

F = "error_handler.response_filters"
S = "error_handler.backoff_strategies"


def ok_filter(**extra: Any) -> dict[str, Any]:
    return {"http_codes": [500], "action": "RETRY", **extra}


@pytest.mark.parametrize(
    ("table", "where", "fragment"),
    [
        ({"max_retrys": 3}, "error_handler", "unknown key 'max_retrys'"),
        ({"max_retries": -1}, "error_handler.max_retries", "-1"),
        ({"max_retries": 2.5}, "error_handler.max_retries", "2.5"),
        ({"max_retries": True}, "error_handler.max_retries", "True"),
        ({"max_time": -5}, "error_handler.max_time", "-5"),
        ({"max_time": "600"}, "error_handler.max_time", "'600'"),
        ({"max_time": float("inf")}, "error_handler.max_time", "inf"),
        ({"backoff_strategies": "exponential"}, S, "must be an array"),
        ({"backoff_strategies": ["exponential"]}, f"{S}[0]", "got a string"),
        ({"backoff_strategies": [{"factor": 2}]}, f"{S}[0].type", "required"),
        ({"backoff_strategies": [{"type": "fibonacci"}]}, f"{S}[0].type", "'fibonacci'"),
        ({"backoff_strategies": [{"type": 3}]}, f"{S}[0].type", "3"),
        ({"backoff_strategies": [{"type": "constant"}]}, f"{S}[0].backoff_time_in_seconds", "required"),
        (
            {"backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": -1}]},
            f"{S}[0].backoff_time_in_seconds",
            "-1",
        ),
        ({"backoff_strategies": [{"type": "exponential", "factor": -2}]}, f"{S}[0].factor", "-2"),
        ({"backoff_strategies": [{"type": "exponential", "factr": 2}]}, f"{S}[0]", "unknown key 'factr'"),
        (
            {
                "backoff_strategies": [
                    {"type": "exponential"},
                    {"type": "constant", "backoff_time_in_seconds": 1, "jitter_range_in_seconds": -3},
                ]
            },
            f"{S}[1].jitter_range_in_seconds",
            "-3",
        ),
        ({"backoff_strategies": [{"type": "wait_time_from_header"}]}, f"{S}[0].header", "required"),
        ({"backoff_strategies": [{"type": "wait_time_from_header", "header": ""}]}, f"{S}[0].header", "empty"),
        (
            {"backoff_strategies": [{"type": "wait_time_from_header", "header": "Retry After"}]},
            f"{S}[0].header",
            "'Retry After'",
        ),
        (
            {"backoff_strategies": [{"type": "wait_time_from_header", "header": "X", "regex": "(\\d+"}]},
            f"{S}[0].regex",
            "'(\\\\d+'",
        ),
        (
            {
                "backoff_strategies": [
                    {"type": "wait_time_from_header", "header": "X", "max_waiting_time_in_seconds": 0}
                ]
            },
            f"{S}[0].max_waiting_time_in_seconds",
            "> 0",
        ),
        (
            {"backoff_strategies": [{"type": "wait_until_time_from_header", "header": "X", "min_wait": "5"}]},
            f"{S}[0].min_wait",
            "'5'",
        ),
        (
            {
                "backoff_strategies": [
                    {"type": "wait_until_time_from_header", "header": "X", "jitter_range_in_seconds": 1}
                ]
            },
            f"{S}[0]",
            "unknown key 'jitter_range_in_seconds'",
        ),
        ({"response_filters": {"action": "RETRY"}}, F, "must be an array"),
        ({"response_filters": [{"action": "RETRY"}]}, f"{F}[0]", "at least one condition"),
        ({"response_filters": [{"http_codes": [500]}]}, f"{F}[0].action", "required"),
        ({"response_filters": [{"http_codes": [500], "action": "RESTART"}]}, f"{F}[0].action", "'RESTART'"),
        ({"response_filters": [{"http_codes": [500], "action": "SPLIT"}]}, f"{F}[0].action", "'SPLIT'"),
        ({"response_filters": [ok_filter(), {"http_codes": [500], "action": 1}]}, f"{F}[1].action", "1"),
        ({"response_filters": [{"http_codes": 500, "action": "RETRY"}]}, f"{F}[0].http_codes", "an integer"),
        ({"response_filters": [{"http_codes": [], "action": "RETRY"}]}, f"{F}[0].http_codes", "at least one"),
        ({"response_filters": [{"http_codes": [500, "429"], "action": "RETRY"}]}, f"{F}[0].http_codes[1]", "'429'"),
        ({"response_filters": [{"http_codes": [99], "action": "RETRY"}]}, f"{F}[0].http_codes[0]", "99"),
        (
            {"response_filters": [{"error_message_contains": 5, "action": "RETRY"}]},
            f"{F}[0].error_message_contains",
            "5",
        ),
        (
            {"response_filters": [{"error_message_contains": "", "action": "RETRY"}]},
            f"{F}[0].error_message_contains",
            "empty",
        ),
        (
            {"response_filters": [ok_filter(), {"predicate": "{{ response.code == }}", "action": "FAIL"}]},
            f"{F}[1].predicate",
            "does not compile",
        ),
        (
            {"response_filters": [{"predicate": "{{ x|nosuchfilter }}", "action": "FAIL"}]},
            f"{F}[0].predicate",
            "nosuchfilter",
        ),
        ({"response_filters": [ok_filter(error_message="{{ status ")]}, f"{F}[0].error_message", "does not compile"),
        ({"response_filters": [ok_filter(error_mesage="x")]}, f"{F}[0]", "unknown key 'error_mesage'"),
        ({"response_filters": ["RETRY"]}, f"{F}[0]", "expected a table"),
    ],
)
def test_config_error_names_the_place_and_value(table: dict[str, Any], where: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_error_handler(table)
    assert caught.value.where == where
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{where}: ")


def test_unknown_keys_are_reported_before_missing_ones() -> None:
    with pytest.raises(ConfigError, match="unknown key 'backof_time_in_seconds'"):
        parse_error_handler({"backoff_strategies": [{"type": "constant", "backof_time_in_seconds": 5}]})


def test_the_where_prefix_is_the_callers() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_error_handler({"max_time": -1}, "profiles.eu.error_handler")
    assert caught.value.where == "profiles.eu.error_handler.max_time"


def test_a_non_table_section_is_an_error() -> None:
    with pytest.raises(ConfigError, match="expected a table, got an array"):
        parse_error_handler([1, 2])  # type: ignore[arg-type]  # a wrong type is the case under test


def test_absent_or_empty_section_gives_the_defaults() -> None:
    assert parse_error_handler(None) == ErrorHandlerConfig()
    assert parse_error_handler({}) == ErrorHandlerConfig(max_retries=5, max_time=600.0)


def test_a_full_toml_section_builds_every_strategy_and_filter() -> None:
    document = tomllib.loads(
        """
        [error_handler]
        max_retries = 8
        max_time = 120
        backoff_strategies = [
          { type = "wait_time_from_header", header = "Retry-After", max_waiting_time_in_seconds = 90 },
          { type = "wait_until_time_from_header", header = "X-RateLimit-Reset", min_wait = 1, regex = "(\\\\d+)" },
          { type = "constant", backoff_time_in_seconds = 3, jitter_range_in_seconds = 0.5 },
          { type = "exponential" },
        ]

        [[error_handler.response_filters]]
        http_codes = [403]
        error_message_contains = "slow down"
        action = "RATE_LIMITED"
        error_message = "asked to slow down"
        """
    )
    config = parse_error_handler(document["error_handler"])
    assert config.max_retries == 8 and config.max_time == 120.0
    assert config.backoff_strategies == (
        WaitTimeFromHeader(header="Retry-After", max_waiting_time_in_seconds=90.0),
        WaitUntilTimeFromHeader(header="X-RateLimit-Reset", min_wait=1.0, regex=re.compile(r"(\d+)")),
        ConstantBackoff(backoff_time_in_seconds=3.0, jitter_range_in_seconds=0.5),
        ExponentialBackoff(factor=5.0),
    )
    (rule,) = config.response_filters
    assert rule.action is Action.RATE_LIMITED
    assert rule.http_codes == frozenset({403})
    assert rule.error_message_contains == "slow down"
    assert rule.where == "error_handler.response_filters[0]"


@pytest.mark.parametrize(
    ("airbyte", "ours"),
    [
        (
            {"type": "ConstantBackoffStrategy", "backoff_time_in_seconds": 2},
            ConstantBackoff(backoff_time_in_seconds=2.0),
        ),
        ({"type": "ExponentialBackoffStrategy", "factor": 3}, ExponentialBackoff(factor=3.0)),
        ({"type": "WaitTimeFromHeader", "header": "Retry-After"}, WaitTimeFromHeader(header="Retry-After")),
        ({"type": "WaitUntilTimeFromHeader", "header": "X-Reset"}, WaitUntilTimeFromHeader(header="X-Reset")),
    ],
)
def test_airbyte_manifest_type_names_are_accepted(airbyte: dict[str, Any], ours: object) -> None:
    assert parse_error_handler({"backoff_strategies": [airbyte]}).backoff_strategies == (ours,)


def test_config_values_are_checked_when_built_directly() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        ErrorHandlerConfig(max_retries=-1)
    with pytest.raises(ValueError, match="max_time"):
        ErrorHandlerConfig(max_time=float("nan"))
