"""The user's response filters as a plugin: registered ``tryfirst``, so they overrule the
destination's ``classify_error`` and the core defaults, and say nothing (None) otherwise."""

from __future__ import annotations

from typing import Any

from deliverator._classification import Classification
from deliverator._errorhandling.config import ErrorHandlerConfig
from deliverator._errorhandling.filters import ResponseFilter, first_match
from deliverator._hookspecs import hookimpl
from deliverator._http import HttpResponse


class ConfiguredErrorHandler:
    """Classifies whole-request answers with the configured filters, first match wins."""

    def __init__(self, filters: tuple[ResponseFilter, ...]) -> None:
        self.filters = filters

    def __repr__(self) -> str:
        return f"ConfiguredErrorHandler({len(self.filters)} filters)"

    @hookimpl(tryfirst=True)
    def classify_error(
        self, response: HttpResponse | None, error: BaseException | None, settings: Any
    ) -> Classification | None:
        """The action of the first matching filter, with its rendered ``error_message``.

        Exceptions (no response) never match a filter: the defaults classify them.
        """
        if response is None or not self.filters:
            return None
        found = first_match(self.filters, response)
        if found is None:
            return None
        rule, view = found
        message = rule.error_message.render(view.context) if rule.error_message is not None else None
        text = message.strip() if message else ""
        return Classification(action=rule.action, errormessage=text or None)


def error_handler_plugin(config: ErrorHandlerConfig) -> ConfiguredErrorHandler | None:
    """The plugin to register for ``config``, or None when it has no response filters."""
    if not config.response_filters:
        return None
    return ConfiguredErrorHandler(config.response_filters)
