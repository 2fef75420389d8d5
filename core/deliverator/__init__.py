"""deliverator: deliver streams of customer events to SaaS tools, with a truthful outcome for
every event.

What a plugin author may import is exactly what ``__all__`` lists; everything else is the
core's to change. Names load lazily so that ``deliverator --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from deliverator._classification import Action, Classification, FailureType
    from deliverator._clock import Clock, RealClock
    from deliverator._encoded import encode_items
    from deliverator._errorcodes import ErrorCode, is_retryable_status
    from deliverator._errors import ConfigError, IgnoreEvent, PayloadValidationError, PluginError
    from deliverator._events import json_kind
    from deliverator._hookspecs import hookimpl
    from deliverator._http import Headers, HttpClient, HttpResponse, HttpSettings, TransportError
    from deliverator._multistatus import ErrorResponse, IgnoredResponse, MultiStatusResponse, SuccessResponse
    from deliverator._pipeline import Pipeline, deliver
    from deliverator._responsetext import error_text, parse_body
    from deliverator._secret import Secret
    from deliverator._spec import CheckResult, DemoSetup, DestinationSpec
    from deliverator._timestamps import TimestampError, parse_timestamp

_EXPORTS: dict[str, str] = {
    "Pipeline": "deliverator._pipeline",
    "deliver": "deliverator._pipeline",
    "Action": "deliverator._classification",
    "Classification": "deliverator._classification",
    "FailureType": "deliverator._classification",
    "Clock": "deliverator._clock",
    "encode_items": "deliverator._encoded",
    "RealClock": "deliverator._clock",
    "CheckResult": "deliverator._spec",
    "DemoSetup": "deliverator._spec",
    "DestinationSpec": "deliverator._spec",
    "ErrorCode": "deliverator._errorcodes",
    "is_retryable_status": "deliverator._errorcodes",
    "json_kind": "deliverator._events",
    "HttpSettings": "deliverator._http",
    "error_text": "deliverator._responsetext",
    "parse_body": "deliverator._responsetext",
    "ConfigError": "deliverator._errors",
    "IgnoreEvent": "deliverator._errors",
    "PayloadValidationError": "deliverator._errors",
    "PluginError": "deliverator._errors",
    "hookimpl": "deliverator._hookspecs",
    "Headers": "deliverator._http",
    "HttpClient": "deliverator._http",
    "HttpResponse": "deliverator._http",
    "TransportError": "deliverator._http",
    "ErrorResponse": "deliverator._multistatus",
    "IgnoredResponse": "deliverator._multistatus",
    "MultiStatusResponse": "deliverator._multistatus",
    "SuccessResponse": "deliverator._multistatus",
    "Secret": "deliverator._secret",
    "TimestampError": "deliverator._timestamps",
    "parse_timestamp": "deliverator._timestamps",
}

__all__ = [
    "Action",
    "CheckResult",
    "Classification",
    "Clock",
    "ConfigError",
    "DemoSetup",
    "DestinationSpec",
    "ErrorCode",
    "ErrorResponse",
    "FailureType",
    "Headers",
    "HttpClient",
    "HttpResponse",
    "HttpSettings",
    "IgnoreEvent",
    "IgnoredResponse",
    "MultiStatusResponse",
    "PayloadValidationError",
    "Pipeline",
    "PluginError",
    "RealClock",
    "Secret",
    "SuccessResponse",
    "TimestampError",
    "TransportError",
    "__version__",
    "deliver",
    "encode_items",
    "error_text",
    "hookimpl",
    "is_retryable_status",
    "json_kind",
    "parse_body",
    "parse_timestamp",
]


_MOVED: dict[str, str] = {
    "FakeClock": "deliverator.testing",
    "PayloadBatch": "deliverator.testing",
}
"""Test-only names that left ``__all__`` for ``deliverator.testing``; still found here, with a
warning, so that code written against the first release keeps working."""


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None and name in _MOVED:
        import warnings

        warnings.warn(
            f"deliverator.{name} is a test helper: import it from {_MOVED[name]}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    if module is None:
        raise AttributeError(f"module 'deliverator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
