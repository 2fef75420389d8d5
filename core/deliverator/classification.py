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


def _to_error_code(value: ErrorCode | str | None) -> ErrorCode | None:
    return value if value is None or isinstance(value, ErrorCode) else ErrorCode(value)


@attrs.frozen(kw_only=True)
class Classification:
    """A decision about one whole-request outcome.

    ``status``, ``errortype`` and ``errormessage`` describe the failure recorded for each item
    when the action fails it (FAIL, or a retry that runs out); left empty they are taken from
    the response (its status, that status's error type, the text of its body) or the exception.
    """

    action: Action = attrs.field(converter=Action)
    status: int | None = None
    errortype: ErrorCode | None = attrs.field(default=None, converter=_to_error_code)
    errormessage: str | None = None

    @property
    def retries(self) -> bool:
        """Whether this action sends the same batch again after a wait."""
        return self.action in (Action.RETRY, Action.RATE_LIMITED)
