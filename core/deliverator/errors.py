"""Exceptions that cross layer boundaries, grouped by what to do about them."""

from __future__ import annotations


class DeliveratorError(Exception):
    """Base of deliverator's own exceptions."""


class ConfigError(DeliveratorError):
    """The configuration cannot be used. The CLI prints the message and exits 2.

    ``where`` names the offending place (``error_handler.response_filters[1].predicate``) so
    the message can point at it.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        self.detail = message
        super().__init__(f"{where}: {message}" if where else message)


class PluginError(DeliveratorError):
    """A plugin could not be found, loaded or used (a misspelt hook, a missing spec, ...)."""


class PayloadValidationError(DeliveratorError):
    """Raised by ``build_payload`` for an event that cannot be sent.

    The event fails with status 400 and ``PAYLOAD_VALIDATION_FAILED``; it is never sent and
    never retried. The message should name the missing or invalid field.
    """


class IgnoreEvent(DeliveratorError):
    """Raised by ``build_payload`` for an event this destination deliberately does not take.

    The event's outcome is ``ignored`` with ``reason`` as its message, status 200, attempts 0
    and ``sent`` null: it is not sent, not retried and not a dead letter.

    Example::

        if event["type"] == "alias":
            raise IgnoreEvent("alias events have no equivalent in this service")
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
