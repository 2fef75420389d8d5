"""The one cattrs converter for everything that crosses a boundary: config tables into
settings classes, outcome records out to JSON.

Unknown keys are errors (a typo in a config file must not be silently ignored), and cattrs'
nested errors become one readable message that names the offending key.
"""

from __future__ import annotations

from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from deliverator.errorcodes import ErrorCode
from deliverator.errors import ConfigError
from deliverator.secret import Secret

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True)


def _structure_secret(value: Any, _: type) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return Secret(value)


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    return value


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


converter.register_structure_hook(Secret, _structure_secret)
converter.register_unstructure_hook(Secret, lambda _: "********")
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_unstructure_hook(ErrorCode, lambda code: code.value)


def structure_config(table: Any, cls: type[T], where: str) -> T:
    """Build ``cls`` from a config table, or raise :class:`ConfigError` naming the bad key."""
    if not isinstance(table, dict):
        raise ConfigError(f"expected a table, got {type(table).__name__}", where)
    try:
        return converter.structure(table, cls)
    except (ClassValidationError, ForbiddenExtraKeysError) as exc:
        raise ConfigError(_describe(exc, where)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), where) from None


def _describe(exc: BaseException, where: str) -> str:
    messages: list[str] = []
    _walk(exc, where, messages)
    return "; ".join(messages) or f"{where}: invalid"


def _walk(exc: BaseException, path: str, out: list[str]) -> None:
    if isinstance(exc, ForbiddenExtraKeysError):
        keys = ", ".join(sorted(exc.extra_fields))
        out.append(f"{path}: unknown key {keys!r}" if len(exc.extra_fields) == 1 else f"{path}: unknown keys {keys}")
        return
    if isinstance(exc, ExceptionGroup):
        for sub in exc.exceptions:
            note = next((n for n in getattr(sub, "__notes__", []) if "attribute" in n or "@" in n), "")
            _walk(sub, _extend(path, note, sub), out)
        return
    if isinstance(exc, KeyError):
        out.append(f"{path}: required key missing")
        return
    out.append(f"{path}: {exc}")


def _extend(path: str, note: str, exc: BaseException) -> str:
    name = getattr(exc, "__cattrs_note_name__", None)
    # cattrs notes look like "Structuring class X @ attribute foo" or "... @ index 1".
    if " @ attribute " in note:
        name = note.rsplit(" @ attribute ", 1)[1]
        return f"{path}.{name}"
    if " @ index " in note:
        return f"{path}[{note.rsplit(' @ index ', 1)[1]}]"
    if " @ key " in note:
        return f"{path}.{note.rsplit(' @ key ', 1)[1]}"
    return path
