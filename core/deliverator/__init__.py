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
    from deliverator.classification import Action, Classification, FailureType
    from deliverator.clock import Clock, RealClock
    from deliverator.encoded import encode_items
    from deliverator.errorcodes import ErrorCode, is_retryable_status
    from deliverator.errors import ConfigError, IgnoreEvent, PayloadValidationError, PluginError
    from deliverator.events import json_kind
    from deliverator.hookspecs import hookimpl
    from deliverator.http import Headers, HttpClient, HttpResponse, HttpSettings, TransportError
    from deliverator.multistatus import ErrorResponse, IgnoredResponse, MultiStatusResponse, SuccessResponse
    from deliverator.pipeline import Pipeline, deliver
    from deliverator.responsetext import error_text, parse_body
    from deliverator.secret import Secret
    from deliverator.spec import CheckResult, DemoSetup, DestinationSpec
    from deliverator.timestamps import TimestampError, parse_timestamp

_EXPORTS: dict[str, str] = {
    "Pipeline": "deliverator.pipeline",
    "deliver": "deliverator.pipeline",
    "Action": "deliverator.classification",
    "Classification": "deliverator.classification",
    "FailureType": "deliverator.classification",
    "Clock": "deliverator.clock",
    "encode_items": "deliverator.encoded",
    "RealClock": "deliverator.clock",
    "CheckResult": "deliverator.spec",
    "DemoSetup": "deliverator.spec",
    "DestinationSpec": "deliverator.spec",
    "ErrorCode": "deliverator.errorcodes",
    "is_retryable_status": "deliverator.errorcodes",
    "json_kind": "deliverator.events",
    "HttpSettings": "deliverator.http",
    "error_text": "deliverator.responsetext",
    "parse_body": "deliverator.responsetext",
    "ConfigError": "deliverator.errors",
    "IgnoreEvent": "deliverator.errors",
    "PayloadValidationError": "deliverator.errors",
    "PluginError": "deliverator.errors",
    "hookimpl": "deliverator.hookspecs",
    "Headers": "deliverator.http",
    "HttpClient": "deliverator.http",
    "HttpResponse": "deliverator.http",
    "TransportError": "deliverator.http",
    "ErrorResponse": "deliverator.multistatus",
    "IgnoredResponse": "deliverator.multistatus",
    "MultiStatusResponse": "deliverator.multistatus",
    "SuccessResponse": "deliverator.multistatus",
    "Secret": "deliverator.secret",
    "TimestampError": "deliverator.timestamps",
    "parse_timestamp": "deliverator.timestamps",
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
