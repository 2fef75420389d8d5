"""``[error_handler]`` from a TOML table to an :class:`ErrorHandlerConfig`, every mistake a
:class:`~deliverator.errors.ConfigError` that names the key and the value at fault."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from deliverator.classification import Action
from deliverator.errorhandling.backoff import (
    DEFAULT_EXPONENTIAL_FACTOR,
    BackoffStrategy,
    ConstantBackoff,
    ExponentialBackoff,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
)
from deliverator.errorhandling.config import DEFAULT_MAX_RETRIES, DEFAULT_MAX_TIME, ErrorHandlerConfig
from deliverator.errorhandling.filters import FILTER_ACTIONS, ResponseFilter
from deliverator.errorhandling.tables import TableReader, type_name
from deliverator.errors import ConfigError

if TYPE_CHECKING:
    from deliverator.errorhandling.templates import SafeTemplate

_SECTION_KEYS = ("max_retries", "max_time", "backoff_strategies", "response_filters")
_FILTER_KEYS = ("http_codes", "error_message_contains", "predicate", "action", "error_message")
_CONDITIONS = ("http_codes", "error_message_contains", "predicate")


def parse_error_handler(table: Mapping[str, Any] | None, where: str = "error_handler") -> ErrorHandlerConfig:
    """Validate and build the ``[error_handler]`` table (None or absent means the defaults).

    Raises :class:`ConfigError` for an unknown key, an unknown action or strategy type, a bad
    regex, a template that does not compile, a filter naming no condition, a negative number
    or a value of the wrong type, naming the place (``error_handler.response_filters[1].predicate``).
    """
    if table is None:
        return ErrorHandlerConfig()
    reader = TableReader(table, where, _SECTION_KEYS)
    strategies = tuple(
        parse_strategy(entry, f"{reader.at('backoff_strategies')}[{index}]")
        for index, entry in enumerate(reader.array("backoff_strategies"))
    )
    filters = tuple(
        parse_filter(entry, f"{reader.at('response_filters')}[{index}]")
        for index, entry in enumerate(reader.array("response_filters"))
    )
    return ErrorHandlerConfig(
        max_retries=reader.integer("max_retries", DEFAULT_MAX_RETRIES),
        max_time=_defaulted(reader.number("max_time", DEFAULT_MAX_TIME), DEFAULT_MAX_TIME),
        backoff_strategies=strategies,
        response_filters=filters,
    )


def _defaulted(value: float | None, default: float) -> float:
    return default if value is None else value


# --- strategies -------------------------------------------------------------------------


def _constant(reader: TableReader) -> BackoffStrategy:
    return ConstantBackoff(
        backoff_time_in_seconds=reader.required_number("backoff_time_in_seconds"),
        jitter_range_in_seconds=_defaulted(reader.number("jitter_range_in_seconds", 0.0), 0.0),
    )


def _exponential(reader: TableReader) -> BackoffStrategy:
    return ExponentialBackoff(
        factor=_defaulted(reader.number("factor", DEFAULT_EXPONENTIAL_FACTOR), DEFAULT_EXPONENTIAL_FACTOR),
        jitter_range_in_seconds=_defaulted(reader.number("jitter_range_in_seconds", 0.0), 0.0),
    )


def _wait_time_from_header(reader: TableReader) -> BackoffStrategy:
    return WaitTimeFromHeader(
        header=_header(reader),
        regex=_regex(reader),
        max_waiting_time_in_seconds=reader.number("max_waiting_time_in_seconds", None, positive=True),
    )


def _wait_until_time_from_header(reader: TableReader) -> BackoffStrategy:
    return WaitUntilTimeFromHeader(
        header=_header(reader),
        min_wait=_defaulted(reader.number("min_wait", 0.0), 0.0),
        regex=_regex(reader),
        max_waiting_time_in_seconds=reader.number("max_waiting_time_in_seconds", None, positive=True),
    )


_STRATEGIES: dict[str, tuple[tuple[str, ...], Callable[[TableReader], BackoffStrategy]]] = {
    "constant": (("backoff_time_in_seconds", "jitter_range_in_seconds"), _constant),
    "exponential": (("factor", "jitter_range_in_seconds"), _exponential),
    "wait_time_from_header": (("header", "regex", "max_waiting_time_in_seconds"), _wait_time_from_header),
    "wait_until_time_from_header": (
        ("header", "min_wait", "regex", "max_waiting_time_in_seconds"),
        _wait_until_time_from_header,
    ),
}

_AIRBYTE_NAMES = {
    "ConstantBackoffStrategy": "constant",
    "ExponentialBackoffStrategy": "exponential",
    "WaitTimeFromHeader": "wait_time_from_header",
    "WaitUntilTimeFromHeader": "wait_until_time_from_header",
}
"""Airbyte's manifest names, accepted so that a copied manifest entry needs no renaming."""


def parse_strategy(table: Any, where: str) -> BackoffStrategy:
    """Build one ``backoff_strategies`` entry (a table with a ``type``)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f'expected a table such as {{ type = "exponential" }}, got {type_name(table)}', where)
    kind = table.get("type")
    if kind is None:
        raise ConfigError(f"required key missing (one of: {', '.join(_STRATEGIES)})", f"{where}.type")
    name = _AIRBYTE_NAMES.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(name, str) or name not in _STRATEGIES:
        raise ConfigError(
            f"unknown strategy type {kind!r} (expected one of: {', '.join(_STRATEGIES)})", f"{where}.type"
        )
    keys, build = _STRATEGIES[name]
    return build(TableReader(table, where, ("type", *keys)))


def _header(reader: TableReader) -> str:
    name = reader.string("header", required=True)
    assert name is not None
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
        raise ConfigError(f"{name!r} is not a valid header name", reader.at("header"))
    return name.strip()


def _regex(reader: TableReader) -> re.Pattern[str] | None:
    source = reader.string("regex")
    if source is None:
        return None
    try:
        return re.compile(source)
    except re.error as exc:
        raise ConfigError(f"invalid regular expression {source!r}: {exc}", reader.at("regex")) from None


# --- filters ----------------------------------------------------------------------------


def parse_filter(table: Any, where: str) -> ResponseFilter:
    """Build one ``response_filters`` entry."""
    reader = TableReader(table, where, _FILTER_KEYS)
    if not any(reader.has(key) for key in _CONDITIONS):
        raise ConfigError(f"a response filter must name at least one condition ({', '.join(_CONDITIONS)})", where)
    action = _action(reader)
    predicate = reader.string("predicate")
    message = reader.string("error_message")
    return ResponseFilter(
        action=action,
        http_codes=_http_codes(reader),
        error_message_contains=reader.string("error_message_contains"),
        predicate=_compile(predicate, reader.at("predicate")) if predicate is not None else None,
        error_message=_compile(message, reader.at("error_message")) if message is not None else None,
        where=where,
    )


def _action(reader: TableReader) -> Action:
    value = reader.raw("action")
    names = ", ".join(action.value for action in FILTER_ACTIONS)
    if value is None:
        raise ConfigError(f"required key missing (one of: {names})", reader.at("action"))
    if isinstance(value, str):
        for action in FILTER_ACTIONS:
            if value.strip().upper() == action.value:
                return action
    raise ConfigError(f"unknown action {value!r} (expected one of: {names})", reader.at("action"))


def _http_codes(reader: TableReader) -> frozenset[int]:
    if not reader.has("http_codes"):
        return frozenset()
    codes = reader.raw("http_codes")
    where = reader.at("http_codes")
    if not isinstance(codes, list):
        raise ConfigError(f"must be an array of status codes such as [429, 503], got {type_name(codes)}", where)
    if not codes:
        raise ConfigError("must list at least one status code", where)
    for index, code in enumerate(codes):
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ConfigError(f"{code!r} is not an HTTP status code (100-599)", f"{where}[{index}]")
    return frozenset(codes)


def _compile(source: str, where: str) -> SafeTemplate:
    # Imported here so that Jinja2 loads only for configurations that use templates.
    from deliverator.errorhandling.templates import compile_template

    return compile_template(source, where)
