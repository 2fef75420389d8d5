"""The validated ``[error_handler]`` section: retry limits, built strategies, built filters."""

from __future__ import annotations

import attrs

from deliverator._errorhandling import fields
from deliverator._errorhandling.backoff import BackoffStrategy
from deliverator._errorhandling.filters import ResponseFilter

DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_TIME = 600.0


@attrs.frozen(kw_only=True)
class ErrorHandlerConfig:
    """How a run retries and how it reads answers, from ``[error_handler]``.

    ``backoff_strategies`` are tried in order and the first that returns a wait wins;
    ``response_filters`` are tried in order and the first that matches decides.
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=fields.whole_non_negative)
    """Retries after the first attempt."""
    max_time: float = attrs.field(default=DEFAULT_MAX_TIME, validator=fields.non_negative)
    """Seconds an event may spend retrying, counted from its first attempt."""
    backoff_strategies: tuple[BackoffStrategy, ...] = ()
    response_filters: tuple[ResponseFilter, ...] = ()
