"""Exceptions that cross layer boundaries, grouped by what to do about them."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


class DeliveratorError(Exception):
    """Base of deliverator's own exceptions."""


@attrs.frozen
class Problem:
    """One thing wrong in a configuration: where (``delivery.batch_size``; None for the whole
    file) and what."""

    where: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(DeliveratorError):
    """The configuration cannot be used. The CLI prints every problem and exits 2.

    ``problems`` holds every mistake found in one pass; ``where`` and ``detail`` are the first
    one's place (``error_handler.response_filters[1].predicate``) and message.
    """

    def __init__(self, message: str, where: str | None = None, *, problems: Sequence[Problem] = ()) -> None:
        from deliverator._redaction import redact_urls  # errors is imported by everything; keep it light

        # An endpoint quoted in a message keeps its credentials out of every problem's text.
        found = tuple(problems) or (Problem(where, message),)
        self.problems: tuple[Problem, ...] = tuple(Problem(p.where, redact_urls(p.message)) for p in found)
        first = self.problems[0]
        self.where = first.where
        self.detail = first.message
        if len(self.problems) == 1:
            text = str(first)
        else:
            text = f"{len(self.problems)} problems:\n" + "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(text)

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> ConfigError:
        """One error holding ``problems`` (at least one)."""
        if not problems:
            raise ValueError("a ConfigError needs at least one problem")
        return cls(problems[0].message, problems[0].where, problems=problems)


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
