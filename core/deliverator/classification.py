"""What to do with the answer to one whole request.

``classify_error`` hooks return a :class:`Classification`; the delivery loop acts on it the
same way whichever plugin produced it (the user's response filters, the destination, or the
core defaults).
"""

from __future__ import annotations

import enum

import attrs

from deliverator.errorcodes import ErrorCode


class Action(enum.StrEnum):
    """The fate of a whole request."""

    SUCCESS = "SUCCESS"
    """The request was accepted: ``parse_response`` says what happened to each item."""
    RETRY = "RETRY"
    """A transient failure: send the whole batch again after a backoff."""
    RATE_LIMITED = "RATE_LIMITED"
    """Like RETRY, and every sender of the run slows down."""
    IGNORE = "IGNORE"
    """Every item ends ``ignored``: not delivered, not failed."""
    FAIL = "FAIL"
    """Every item fails with the classification's status, error type and message."""
    SPLIT = "SPLIT"
    """The request was too big: send each half of the batch on its own. A batch of one item
    fails with the classification's status and error type instead."""


class FailureType(enum.StrEnum):
    """Whose problem a failure is (Airbyte's names): it decides whether the run goes on."""

    TRANSIENT = "transient"
    """Likely to pass if tried again later (an outage, a timeout, rate limiting)."""
    CONFIG = "config"
    """The configuration is wrong (credentials refused, no such project): every further request
    would fail the same way, so a FAIL of this type stops the run."""
    SYSTEM = "system"
    """A fault in deliverator, a plugin or the service that neither waiting nor a config change
    is known to fix."""


def _to_failure_type(value: FailureType | str | None) -> FailureType | None:
    return value if value is None or isinstance(value, FailureType) else FailureType(value)


def _to_error_code(value: ErrorCode | str | None) -> ErrorCode | None:
    return value if value is None or isinstance(value, ErrorCode) else ErrorCode(value)


@attrs.frozen(kw_only=True)
class Classification:
    """A decision about one whole-request outcome.

    ``status``, ``errortype`` and ``errormessage`` describe the failure recorded for each item
    when the action fails it (FAIL, or a retry that runs out); left empty they are taken from
    the response (its status, that status's error type, the text of its body) or the exception.
    ``failure_type`` says whose problem a failure is; a FAIL whose type is ``config`` stops the
    run (see :attr:`stops_run`).

    Example::

        Classification(action=Action.FAIL, status=401, errortype=ErrorCode.INVALID_AUTHENTICATION,
                       errormessage="the API key was refused", failure_type=FailureType.CONFIG)
    """

    action: Action = attrs.field(converter=Action)
    status: int | None = None
    errortype: ErrorCode | None = attrs.field(default=None, converter=_to_error_code)
    errormessage: str | None = None
    failure_type: FailureType | None = attrs.field(default=None, converter=_to_failure_type)

    @property
    def retries(self) -> bool:
        """Whether this action sends the same batch again after a wait."""
        return self.action in (Action.RETRY, Action.RATE_LIMITED)

    @property
    def stops_run(self) -> bool:
        """Whether the run must stop: a FAIL caused by the configuration (nothing more is sent)."""
        return self.action is Action.FAIL and self.failure_type is FailureType.CONFIG
