"""The one cattrs converter for everything that crosses a boundary: config tables into
settings classes, outcome records out to JSON.

Config tables go through one validation path. cattrs structures the table with detailed
validation, so every wrong field of every table is collected in one pass, and
``cattrs.transform_error`` turns the collected exceptions into one problem per place
(``error_handler.backoff_strategies[1].factor``). Unknown keys are errors (a typo in a config
file must not be silently ignored) that suggest the closest expected key and list them all.

Field validators of attrs classes (a plugin's settings class, the core's config classes) run
while each field is structured, so their messages are collected with the others instead of
stopping at the first; the class runs them again when it is built (harmless: they are checks).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from deliverator._errorcodes import ErrorCode
from deliverator._errors import ConfigError, Problem
from deliverator._secret import Secret

T = TypeVar("T")

NOT_A_CONFIG_KEY: Final = "deliverator.not_a_config_key"
"""attrs field metadata: the field is set by the program, never read from a config table."""

STRUCTURE_WITH: Final = "deliverator.structure_with"
"""attrs field metadata: the function that structures this field's value from its table
(``fn(value, type) -> value``, raising TypeError or ValueError with a message)."""

converter = cattrs.Converter(forbid_extra_keys=True)

_ALSO_ACCEPTED: dict[type, tuple[str, ...]] = {}


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


def also_accepted(cls: type, *keys: str) -> None:
    """Keys a hook reads from ``cls``'s table before cattrs sees it (a strategy's ``type``),
    listed among the expected keys when another key is unknown."""
    _ALSO_ACCEPTED[cls] = keys


def _structure_secret(value: Any, _: type) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type_name(value)}")
    return Secret(value)


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type_name(value)} {value!r}")
    return float(value)


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {type_name(value)} {value!r}")
    return value


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type_name(value)} {value!r}")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type_name(value)} {value!r}")
    return value


def _is_sequence(cls: Any) -> bool:
    return get_origin(cls) in (tuple, list, frozenset) and (
        get_origin(cls) is not tuple or (len(get_args(cls)) == 2 and get_args(cls)[1] is Ellipsis)
    )


def _sequence_hook(cls: Any) -> Callable[[Any, Any], Any]:
    """TOML arrays only (a string is not a list of its characters), every element's error kept."""
    origin = get_origin(cls)
    element = get_args(cls)[0]
    structure = converter.get_structure_hook(element)

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"must be an array, got {type_name(value)}")
        items: list[Any] = []
        errors: list[Exception] = []
        for index, entry in enumerate(value):
            try:
                items.append(structure(entry, element))
            except Exception as exc:
                exc.add_note(IterableValidationNote(f"Structuring {cls} @ index {index}", index, element))
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {cls!r}", errors, cls)
        return origin(items)

    return hook


def _attrs_hook(cls: type) -> Callable[[Any, Any], Any]:
    """cattrs' own structuring, with each field's attrs validator run on the structured value
    so that every invalid field is reported, not only the first."""
    attrs.resolve_types(cls)
    overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.metadata.get(NOT_A_CONFIG_KEY):
            overrides[field.name] = override(omit=True)
        elif STRUCTURE_WITH in field.metadata:
            overrides[field.name] = override(struct_hook=_validated(field, field.metadata[STRUCTURE_WITH]))
        elif field.validator is not None and not isinstance(field.converter, attrs.Converter):
            overrides[field.name] = override(struct_hook=_validated(field))
    built: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, converter, **overrides)

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a table, got {type_name(value)}")
        return built(value, cls)

    return hook


def _validated(
    field: attrs.Attribute[Any], structure: Callable[[Any, Any], Any] | None = None
) -> Callable[[Any, Any], Any]:
    structure = structure or converter.get_structure_hook(field.type)
    validator = field.validator
    convert = field.converter

    def hook(value: Any, _: Any) -> Any:
        result = structure(value, field.type)
        if validator is None:
            return result
        checked = convert(result) if callable(convert) else result
        try:
            validator(None, field, checked)
        except (TypeError, ValueError):
            raise
        except Exception:  # a validator that needs the whole instance runs when it is built
            pass
        return result

    return hook


converter.register_structure_hook(Secret, _structure_secret)
converter.register_unstructure_hook(Secret, lambda _: "********")
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook_factory(_is_sequence, _sequence_hook)
converter.register_structure_hook_factory(attrs.has, _attrs_hook)
converter.register_unstructure_hook(ErrorCode, lambda code: code.value)


def structure_config(table: Any, cls: type[T], where: str) -> T:
    """Build ``cls`` from a config table, or raise :class:`ConfigError` holding every problem."""
    value, problems = structure_problems(table, cls, where)
    if problems:
        raise ConfigError.of(problems)
    assert value is not None
    return value


def structure_problems(table: Any, cls: type[T], where: str) -> tuple[T | None, list[Problem]]:
    """Build ``cls`` from a config table: the value, or None and every problem found."""
    if not isinstance(table, Mapping):
        return None, [Problem(where, f"expected a table, got {type_name(table)}")]
    try:
        return converter.structure(table, cls), []
    except Exception as exc:
        return None, problems_of(exc, where)


def problems_of(exc: BaseException, where: str) -> list[Problem]:
    """Every problem ``exc`` holds, unknown keys first (a misspelt key usually explains a
    "missing" one), through ``cattrs.transform_error``."""
    if isinstance(exc, ConfigError):
        return [Problem(_join(where, p.where or ""), p.message) for p in exc.problems]
    if not isinstance(exc, BaseValidationError | TypeError | ValueError | KeyError):
        raise exc
    problems = []
    for text in cattrs.transform_error(exc, path="$", format_exception=_format):
        message, _, path = text.rpartition(" @ ")
        path = path.removeprefix("$").removeprefix(".")
        # A validator's message names its field ("max_retries must be..."); the path says it.
        name = path.rpartition(".")[2]
        if name and message.startswith(f"{name} "):
            message = message[len(name) + 1 :]
        problems.append(Problem(_join(where, path), message))
    return sorted(problems, key=lambda p: not p.message.startswith("unknown key"))


def _join(where: str, path: str) -> str:
    if not path:
        return where
    if not where:
        return path
    return f"{where}{path}" if path.startswith("[") else f"{where}.{path}"


def _format(exc: BaseException, _: type | None) -> str:
    if isinstance(exc, ForbiddenExtraKeysError):
        return unknown_keys_message(exc.extra_fields, expected_keys(exc.cl))
    if isinstance(exc, KeyError):
        detail = exc.args[0] if exc.args else ""
        missing = "required key missing"
        return detail if isinstance(detail, str) and detail.startswith(missing) else missing
    if isinstance(exc, ConfigError):
        return exc.detail
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc) or type(exc).__name__


def expected_keys(cls: type) -> list[str]:
    """The keys a table for ``cls`` may hold."""
    keys = [f.name for f in attrs.fields(cls) if not f.metadata.get(NOT_A_CONFIG_KEY)] if attrs.has(cls) else []
    return [*_ALSO_ACCEPTED.get(cls, ()), *keys]


def unknown_keys_message(unknown: Iterable[str], expected: Iterable[str], what: str = "key") -> str:
    """``unknown key 'batchsize' (did you mean 'batch_size'?); expected one of: ...``."""
    known = list(expected)
    named = []
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        named.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
    plural = what + ("s" if len(named) > 1 else "")
    listing = ", ".join(known) if known else "none"
    return f"unknown {plural} {', '.join(named)}; expected one of: {listing}"
