"""How the values of ``[error_handler]`` are read from TOML and checked.

Each function here is either an attrs validator (it also guards values built in code) or a
structuring function named in a field's metadata (``deliverator._convert.STRUCTURE_WITH``):
the one cattrs path in :mod:`deliverator._convert` calls it, and collects its messages with
every other problem of the file.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Final

from cattrs.errors import IterableValidationError, IterableValidationNote

from deliverator._classification import Action
from deliverator._convert import STRUCTURE_WITH, type_name
from deliverator._errors import ConfigError

if TYPE_CHECKING:
    import attrs

    from deliverator._errorhandling.templates import SafeTemplate

FILTER_ACTIONS: Final = (Action.SUCCESS, Action.RETRY, Action.RATE_LIMITED, Action.IGNORE, Action.FAIL)
"""What a filter may decide (SPLIT is the destination's call, not a user's)."""

_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def reads(function: Any) -> dict[str, Any]:
    """attrs field metadata naming ``function`` as the field's structuring function."""
    return {STRUCTURE_WITH: function}


# --- validators ---------------------------------------------------------------------------


def whole_non_negative(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A whole number >= 0 (a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def non_negative(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number >= 0 (seconds, a factor)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def positive_or_none(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """None, or a finite number > 0 (a cap)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


# --- structuring functions ----------------------------------------------------------------


def text(value: Any, _: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str):
        raise TypeError(f"must be a string, got {type_name(value)} {value!r}")
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def header_name(value: Any, _: Any) -> str:
    """An HTTP header name (surrounding blanks dropped)."""
    name = text(value, None).strip()
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"{value!r} is not a valid header name")
    return name


def regex(value: Any, _: Any) -> re.Pattern[str]:
    """A compiled regular expression."""
    source = text(value, None)
    try:
        return re.compile(source)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {source!r}: {exc}") from None


def action(value: Any, _: Any) -> Action:
    """A filter's action, any case."""
    if isinstance(value, str):
        for candidate in FILTER_ACTIONS:
            if value.strip().upper() == candidate.value:
                return candidate
    names = ", ".join(candidate.value for candidate in FILTER_ACTIONS)
    raise ValueError(f"unknown action {value!r} (expected one of: {names})")


def status_codes(value: Any, _: Any) -> frozenset[int]:
    """A non-empty array of HTTP status codes; every bad entry is reported with its index."""
    if not isinstance(value, list):
        raise TypeError(f"must be an array of status codes such as [429, 503], got {type_name(value)}")
    if not value:
        raise ValueError("must list at least one status code")
    errors: list[Exception] = []
    for index, code in enumerate(value):
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            error = ValueError(f"{code!r} is not an HTTP status code (100-599)")
            error.add_note(IterableValidationNote(f"Structuring http_codes @ index {index}", index, int))
            errors.append(error)
    if errors:
        raise IterableValidationError("While structuring http_codes", errors, frozenset)
    return frozenset(value)


def template(value: Any, _: Any) -> SafeTemplate:
    """A Jinja2 template, compiled (its place in the config is set once the table is read)."""
    # Imported here so that Jinja2 loads only for configurations that use templates.
    from deliverator._errorhandling.templates import compile_template

    source = text(value, None)
    try:
        return compile_template(source, "")
    except ConfigError as exc:
        raise ValueError(exc.detail) from None
