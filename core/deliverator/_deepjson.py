"""JSON for values nested deeper than orjson writes (254 levels), without recursion.

orjson parses up to 1,024 levels but refuses to write more than 254, and Python's own
encoder recurses. A record or an answer body between the two must still be written
somewhere (a dead letter, an outcome's note), so this module measures depth and writes such
values with an explicit stack, letting orjson write every subtree that is shallow enough.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

ORJSON_MAX_DEPTH: Final = 254
"""The deepest value ``orjson.dumps`` writes."""


def nesting_depth(value: Any, limit: int) -> int:
    """How many levels of lists and dicts ``value`` has, counted up to ``limit + 1`` (the
    walk stops as soon as the value is known to be deeper than ``limit``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))
    return deepest


class _Token(bytes):
    """Literal output (brackets, keys, commas) on the encoder's stack."""


def _leaf(value: Any) -> bytes:
    if type(value) is int:
        return str(value).encode()  # beyond 64 bits too: the digits, never a float
    try:
        return orjson.dumps(value, default=repr)
    except TypeError:  # an integer beyond 64 bits, a value whose repr fails
        try:
            return orjson.dumps(repr(value))
        except Exception:
            return b'"<unrepresentable value>"'


def dumps_deep(value: Any) -> bytes:
    """``value`` as JSON whatever its depth (anything not JSON is written as its repr)."""
    out: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is _Token:
            out.append(item)
            continue
        if isinstance(item, dict | list | tuple) and item:
            try:
                out.append(orjson.dumps(item, default=repr))
                continue
            except TypeError:
                pass  # too deep (or a leaf orjson cannot write): open one level by hand
            if isinstance(item, dict):
                stack.append(_Token(b"}"))
                entries = list(item.items())
                for position in range(len(entries) - 1, -1, -1):
                    key, child = entries[position]
                    stack.append(child)
                    stack.append(_Token((b"," if position else b"{") + _leaf(str(key)) + b":"))
            else:
                stack.append(_Token(b"]"))
                for position in range(len(item) - 1, -1, -1):
                    stack.append(item[position])
                    if position:
                        stack.append(_Token(b","))
                stack.append(_Token(b"["))
            continue
        out.append(_leaf(item))
    return b"".join(out)
