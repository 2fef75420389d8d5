"""A value that must never be shown: API keys, tokens, passwords."""

from __future__ import annotations

from typing import Any


class Secret:
    """Wraps a secret string so that repr, str and formatting show only ``'********'``.

    Call :meth:`reveal` at the one place the real value is needed (building an auth header).
    Plugins declare secret settings with this type; the config loader wraps the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a secret must be a string")
        self._value = value

    def reveal(self) -> str:
        """The real value. Never log or format what this returns."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not pickled")
