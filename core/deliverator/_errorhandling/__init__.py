"""Declarative error handling: response filters, backoff strategies, retry limits and
request pacing, configured in ``[error_handler]``.

Airbyte's model and names, without its quirks: regex capture groups are honoured, a predicate
rendering "None" is false, ``Retry-After`` may be an HTTP-date and is always a minimum, every
wait is capped by what is left of ``max_time``, one attempt counter serves every cause of
retry, and the first matching filter always decides.
"""

from __future__ import annotations

from deliverator._errorhandling.backoff import (
    BackoffStrategy,
    ConstantBackoff,
    ExponentialBackoff,
    WaitDecision,
    WaitTimeFromHeader,
    WaitUntilTimeFromHeader,
)
from deliverator._errorhandling.config import ErrorHandlerConfig
from deliverator._errorhandling.filters import ResponseFilter
from deliverator._errorhandling.handler import ConfiguredErrorHandler, error_handler_plugin
from deliverator._errorhandling.headerwaits import retry_after_seconds
from deliverator._errorhandling.pacing import RequestPacer
from deliverator._errorhandling.parsing import parse_error_handler
from deliverator._errorhandling.retrypolicy import RetryPolicy

__all__ = [
    "BackoffStrategy",
    "ConfiguredErrorHandler",
    "ConstantBackoff",
    "ErrorHandlerConfig",
    "ExponentialBackoff",
    "RequestPacer",
    "ResponseFilter",
    "RetryPolicy",
    "WaitDecision",
    "WaitTimeFromHeader",
    "WaitUntilTimeFromHeader",
    "error_handler_plugin",
    "parse_error_handler",
    "retry_after_seconds",
]
