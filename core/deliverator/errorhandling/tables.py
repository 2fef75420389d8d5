"""Reading one TOML table with messages that name the offending key.

A tiny reader rather than cattrs because every error here must say which key of which entry
is wrong and why (``error_handler.backoff_strategies[1].factor: must be a number >= 0, got -2``),
and unknown keys must be reported before anything else: a misspelt key usually explains the
"missing" one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from deliverator.errors import ConfigError


def type_name(value: Any) -> str:
    """How a TOML value's type reads in a message."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class TableReader:
    """Typed access to one table; ``where`` is its place in the file."""

    def __init__(self, table: Any, where: str, known: Collection[str]) -> None:
        if not isinstance(table, Mapping):
            raise ConfigError(f"expected a table, got {type_name(table)}", where)
        unknown = sorted(str(key) for key in table if key not in known)
        if unknown:
            expected = ", ".join(sorted(known))
            raise ConfigError(f"unknown key {unknown[0]!r} (expected one of: {expected})", where)
        self._table = table
        self.where = where

    def at(self, key: str) -> str:
        """The place of ``key`` (``error_handler.max_time``)."""
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        """Whether the table sets ``key``."""
        return key in self._table

    def raw(self, key: str) -> Any:
        """The value of ``key`` as written (None when absent)."""
        return self._table.get(key)

    def number(self, key: str, default: float | None, *, positive: bool = False) -> float | None:
        """A finite number >= 0 (> 0 with ``positive``); integers are accepted."""
        if key not in self._table:
            return default
        value = self._table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"must be a number, got {type_name(value)} {value!r}", self.at(key))
        if not math.isfinite(value):
            raise ConfigError(f"must be a finite number, got {value!r}", self.at(key))
        if value < 0 or (positive and value == 0):
            bound = "> 0" if positive else ">= 0"
            raise ConfigError(f"must be {bound}, got {value!r}", self.at(key))
        return float(value)

    def required_number(self, key: str) -> float:
        """Like :meth:`number`, and the key must be present."""
        value = self.number(key, None)
        if value is None:
            raise ConfigError("required key missing", self.at(key))
        return value

    def integer(self, key: str, default: int) -> int:
        """A whole number >= 0."""
        if key not in self._table:
            return default
        value = self._table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"must be a whole number, got {type_name(value)} {value!r}", self.at(key))
        if value < 0:
            raise ConfigError(f"must be >= 0, got {value!r}", self.at(key))
        return value

    def string(self, key: str, *, required: bool = False) -> str | None:
        """A non-empty string (None when absent and not required)."""
        if key not in self._table:
            if required:
                raise ConfigError("required key missing", self.at(key))
            return None
        value = self._table[key]
        if not isinstance(value, str):
            raise ConfigError(f"must be a string, got {type_name(value)} {value!r}", self.at(key))
        if not value.strip():
            raise ConfigError("must not be empty", self.at(key))
        return value

    def array(self, key: str) -> list[Any]:
        """An array (empty when absent)."""
        if key not in self._table:
            return []
        value = self._table[key]
        if not isinstance(value, list):
            raise ConfigError(f"must be an array, got {type_name(value)}", self.at(key))
        return value
