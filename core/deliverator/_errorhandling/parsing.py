"""``[error_handler]`` from a TOML table to an :class:`ErrorHandlerConfig`, through the one
cattrs path of :mod:`deliverator._convert`: every mistake in the table is reported at once, each
naming the key and the value at fault (``error_handler.backoff_strategies[1].factor``).

What cattrs cannot know is registered here: a backoff strategy is chosen by its ``type`` key
(Airbyte's manifest names accepted too). Each field's own reading and checks live beside the
field (:mod:`deliverator._errorhandling.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
from cattrs.errors import AttributeValidationNote, ClassValidationError

from deliverator._convert import also_accepted, converter, structure_config, type_name
from deliverator._errorhandling.backoff import (
    BackoffStrategy,
    ConstantBackoff,
    ExponentialBackoff,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
)
from deliverator._errorhandling.config import ErrorHandlerConfig

STRATEGIES: Final[dict[str, type[BackoffStrategy]]] = {
    "constant": ConstantBackoff,
    "exponential": ExponentialBackoff,
    "wait_time_from_header": WaitTimeFromHeader,
    "wait_until_time_from_header": WaitUntilTimeFromHeader,
}

_AIRBYTE_NAMES: Final = {
    "ConstantBackoffStrategy": "constant",
    "ExponentialBackoffStrategy": "exponential",
    "WaitTimeFromHeader": "wait_time_from_header",
    "WaitUntilTimeFromHeader": "wait_until_time_from_header",
}
"""Airbyte's manifest names, accepted so that a copied manifest entry needs no renaming."""


def parse_error_handler(table: Mapping[str, Any] | None, where: str = "error_handler") -> ErrorHandlerConfig:
    """Validate and build the ``[error_handler]`` table (None or absent means the defaults).

    Raises :class:`~deliverator._errors.ConfigError` holding every problem: unknown keys (with
    the closest expected one), unknown actions or strategy types, bad regexes, templates that
    do not compile, filters naming no condition, negative numbers and values of the wrong type,
    each naming its place (``error_handler.response_filters[1].predicate``).
    """
    if table is None:
        return ErrorHandlerConfig()
    config = structure_config(table, ErrorHandlerConfig, where)
    placed = tuple(
        rule.placed(f"{where}.response_filters[{index}]") for index, rule in enumerate(config.response_filters)
    )
    return attrs.evolve(config, response_filters=placed)


def _structure_strategy(table: Any, _: Any) -> BackoffStrategy:
    if not isinstance(table, Mapping):
        raise TypeError(f'expected a table such as {{ type = "exponential" }}, got {type_name(table)}')
    kind = table.get("type")
    name = _AIRBYTE_NAMES.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(name, str) or name not in STRATEGIES:
        expected = ", ".join(STRATEGIES)
        problem = (
            KeyError(f"required key missing (one of: {expected})")
            if kind is None
            else ValueError(f"unknown strategy type {kind!r} (expected one of: {expected})")
        )
        problem.add_note(AttributeValidationNote("Structuring a backoff strategy @ attribute type", "type", str))
        raise ClassValidationError("While structuring a backoff strategy", [problem], dict)
    rest = {key: value for key, value in table.items() if key != "type"}
    strategy: BackoffStrategy = converter.structure(rest, STRATEGIES[name])
    return strategy


converter.register_structure_hook(BackoffStrategy, _structure_strategy)
for _cls in STRATEGIES.values():
    also_accepted(_cls, "type")
