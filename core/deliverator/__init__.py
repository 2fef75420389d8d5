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
    from deliverator.clock import Clock, FakeClock, RealClock
    from deliverator.encoded import PayloadBatch, encode_items
    from deliverator.errorcodes import ErrorCode
    from deliverator.errors import ConfigError, IgnoreEvent, PayloadValidationError, PluginError
    from deliverator.hookspecs import hookimpl
    from deliverator.http import Headers, HttpClient, HttpResponse, TransportError
    from deliverator.multistatus import ErrorResponse, IgnoredResponse, MultiStatusResponse, SuccessResponse
    from deliverator.pipeline import Pipeline, deliver
    from deliverator.secret import Secret
    from deliverator.spec import CheckResult, DemoSetup, DestinationSpec

_EXPORTS: dict[str, str] = {
    "Pipeline": "deliverator.pipeline",
    "deliver": "deliverator.pipeline",
    "Action": "deliverator.classification",
    "Classification": "deliverator.classification",
    "FailureType": "deliverator.classification",
    "Clock": "deliverator.clock",
    "FakeClock": "deliverator.clock",
    "PayloadBatch": "deliverator.encoded",
    "encode_items": "deliverator.encoded",
    "RealClock": "deliverator.clock",
    "CheckResult": "deliverator.spec",
    "DemoSetup": "deliverator.spec",
    "DestinationSpec": "deliverator.spec",
    "ErrorCode": "deliverator.errorcodes",
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
    "FakeClock",
    "Headers",
    "HttpClient",
    "HttpResponse",
    "IgnoreEvent",
    "IgnoredResponse",
    "MultiStatusResponse",
    "PayloadBatch",
    "PayloadValidationError",
    "Pipeline",
    "PluginError",
    "RealClock",
    "Secret",
    "SuccessResponse",
    "TransportError",
    "__version__",
    "deliver",
    "encode_items",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deliverator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
