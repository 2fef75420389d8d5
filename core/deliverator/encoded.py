"""Payloads that travel with their JSON already encoded.

The core encodes every payload once, to measure it against the destination's byte limits.
Handing those bytes on saves a plugin from encoding the same items again in ``send_batch``,
and the outcome writer from encoding them a third time for the ``sent`` field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

_DIGITS_ONLY: Final = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(".") for byte in range(256))
"""A translation table: every digit becomes "0", every other byte ".", so that a run of 19
digits (where an integer beyond 64 bits may hide: orjson reads those as floats) is one
substring search, several times cheaper than a regular expression on the hot path."""
_LONG_RUN: Final = b"0" * 19
_INT64: Final = range(-(2**63), 2**64)


class PayloadBatch(list[dict[str, Any]]):
    """The payloads of one request, in order, with ``encoded`` holding each one's JSON."""

    __slots__ = ("encoded",)

    def __init__(self, payloads: Iterable[dict[str, Any]], encoded: Sequence[bytes]) -> None:
        super().__init__(payloads)
        self.encoded = encoded


def encode_items(payloads: Sequence[Mapping[str, Any]]) -> bytes:
    """The payloads as JSON values joined by commas (no brackets), ready to be put inside a
    request body's array: ``b'{"batch":[' + encode_items(payloads) + b']}'``.

    Uses the bytes the core already encoded when ``payloads`` is a :class:`PayloadBatch`.
    """
    encoded = getattr(payloads, "encoded", None)
    if encoded is not None:
        return b",".join(encoded)
    return b",".join(dumps_exact(payload) for payload in payloads)


def may_hold_big_integers(line: bytes) -> bool:
    """Whether ``line`` may hold an integer beyond 64 bits (cheap; false positives only)."""
    return _LONG_RUN in line.translate(_DIGITS_ONLY)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_exact(line: bytes) -> Any:
    """Parse JSON keeping every integer exact (orjson would round those beyond 64 bits to
    floats); for the rare line :func:`may_hold_big_integers` points at."""
    return json.loads(line, parse_constant=_no_constants)


def _exact(value: Any) -> Any:
    if type(value) is int and value not in _INT64:
        return orjson.Fragment(str(value).encode())
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(item) for item in value]
    return value


def dumps_exact(value: Any, *, option: int | None = None, default: Callable[[Any], Any] | None = None) -> bytes:
    """``orjson.dumps(value, ...)``, except that integers beyond 64 bits are written with their
    exact digits instead of raising."""
    try:
        return orjson.dumps(value, option=option, default=default)
    except TypeError as exc:
        if "Integer exceeds" not in str(exc):
            raise
        return orjson.dumps(_exact(value), option=option, default=default)
