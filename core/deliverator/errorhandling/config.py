"""The validated ``[error_handler]`` section: retry limits, built strategies, built filters."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs

from deliverator.errorhandling.backoff import BackoffStrategy

if TYPE_CHECKING:
    from deliverator.errorhandling.filters import ResponseFilter

DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_TIME = 600.0


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _non_negative_finite(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class ErrorHandlerConfig:
    """How a run retries and how it reads answers, from ``[error_handler]``.

    ``backoff_strategies`` are tried in order and the first that returns a wait wins;
    ``response_filters`` are tried in order and the first that matches decides.
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_non_negative_int)
    """Retries after the first attempt."""
    max_time: float = attrs.field(default=DEFAULT_MAX_TIME, validator=_non_negative_finite)
    """Seconds an event may spend retrying, counted from its first attempt."""
    backoff_strategies: tuple[BackoffStrategy, ...] = ()
    response_filters: tuple[ResponseFilter, ...] = ()
