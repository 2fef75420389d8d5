"""How a run stops, as one value the coordinator consults for every unfinished event.

Three ways: a user's Ctrl-C / SIGTERM / ``run.cancel()`` on a resumable source *releases* what
has no outcome (the journal or the queue keeps it pending); the same on a source that cannot be
read twice (standard input) records it 499 ``CANCELLED``; an answer that stops the run (a
``config`` failure such as a rejected API key) records every event not sent as failed with
that answer's status, since sending more is pointless. (Outcomes that cannot be written stop
the run too, but then nothing more can be recorded: see ``DeliveryRun._output_failed``.)
"""

from __future__ import annotations

import enum

import attrs

from deliverator.errorcodes import ErrorCode


class StopKind(enum.Enum):
    """What becomes of an event without an outcome once the run stops."""

    RELEASE = "release"
    """No outcome: the source hands it out again next time."""
    RECORD = "record"
    """Recorded failed with the stop's status and message."""


@attrs.frozen(kw_only=True)
class Stop:
    """Why and how the run is stopping."""

    kind: StopKind
    deadline: float
    """Clock time after which in-flight requests are no longer waited for."""
    cancelled: bool
    """A user asked for the stop (as opposed to a fatal answer)."""
    status: int = 499
    errortype: str = ErrorCode.CANCELLED.value
    message: str = "the run was cancelled before this event was delivered"
    unread_message: str = "the run was cancelled before this event was sent"

    @property
    def refusal(self) -> tuple[int, str, str] | None:
        """What the preparer records for each record it reads from now on (None: it stops)."""
        if self.kind is StopKind.RELEASE:
            return None
        return (self.status, self.errortype, self.unread_message)

    @classmethod
    def cancel(cls, deadline: float, resumable: bool) -> Stop:
        """A user's stop."""
        return cls(kind=StopKind.RELEASE if resumable else StopKind.RECORD, deadline=deadline, cancelled=True)

    @classmethod
    def fatal(cls, deadline: float, status: int, errortype: str, reason: str) -> Stop:
        """An answer that makes sending more pointless (``Classification.stops_run``)."""
        text = f"the run stopped because {reason}; this event was not sent"
        return cls(
            kind=StopKind.RECORD,
            deadline=deadline,
            cancelled=False,
            status=status,
            errortype=errortype,
            message=text,
            unread_message=text,
        )
