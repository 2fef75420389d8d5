"""What a run did, in numbers: the end-of-run lines, the demo's table and the live progress.

Counts are kept by whoever records outcomes (through the ``record_*`` methods) and by the
coordinator (requests, retries, waits). Every word the summary prints is defined where it is
printed, so a reader never has to guess what "retries" counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import attrs

CANCELLED: Final = "CANCELLED"
"""The error type of an event recorded as cancelled (a stopped run reading standard input)."""

REASONS_SHOWN: Final = 3
"""How many ignore reasons the end-of-run lines name (the report names them all)."""

_ADDED: Final = (
    "delivered", "failed", "ignored", "requests", "retried_items", "rate_limited", "released", "waiting_retry"
)
"""What :meth:`Summary.absorb` adds up."""
_FIRST_SAID: Final = ("input_error", "stopped_because", "output_error", "process_error")
"""What it takes from the first part that says it."""


@attrs.define(kw_only=True)
class Summary:
    """Counts kept during a run; the progress display reads them while it runs."""

    delivered: int = 0
    failed: int = 0
    """Every event recorded ``failed``, cancelled ones included (see :attr:`failed_for_good`)."""
    ignored: int = 0
    requests: int = 0
    """HTTP requests made, first attempts and retries alike."""
    retried_items: int = 0
    """Re-sends: each time one event was put back to be sent again after a retryable answer
    (an event sent three times counts two)."""
    rate_limited: int = 0
    """Requests answered with a rate limit (the whole batch waited and was sent again)."""
    cancelled: bool = False
    """The run was asked to stop (Ctrl-C, SIGTERM, a fatal error) before every event had an outcome."""
    input_error: str | None = None
    """Why reading the input stopped early, if it did (the records read were all delivered)."""
    failures_by_type: Counter[str] = attrs.field(factory=Counter)
    unsent_failures_by_type: Counter[str] = attrs.field(factory=Counter)
    """The part of ``failures_by_type`` that never reached the destination (refused locally)."""
    ignored_by_reason: Counter[str] = attrs.field(factory=Counter)

    # Live state, set by the run for the progress display (zero or None when not fed).
    read: int = 0
    """Input records read so far."""
    expected: int | None = None
    """Input records the run will read, when the source knows (None: unknown or estimated)."""
    waiting_retry: int = 0
    """Events waiting for their next attempt right now."""
    next_retry_s: float | None = None
    """Seconds until the first of them may be sent again (a backoff or ``Retry-After`` wait)."""
    paced_rate: float | None = None
    """Requests per second the run is held to (after rate-limited answers, or as configured);
    None: not paced."""
    released: int = 0
    """Events read and left without an outcome because a resumable run stopped (sent next time)."""

    # How the run ended (set by the run).
    interrupted: bool = False
    """The run ended before every record of its source had an outcome (a resumable run that was
    stopped, or outcomes that could not be written)."""
    stopped_because: str | None = None
    """Why an answer stopped the run (a rejected API key ...): every event not sent failed."""
    output_error: str | None = None
    """Why outcome records could not be written, when they could not (the run stopped at once)."""
    broken_pipe: bool = False
    """The reader of standard output went away (``output_error`` says so too)."""
    resumable: bool = False
    """The run was interrupted and its journal lets the same command resume it."""
    resumed: int = 0
    """Events that already had an outcome from an earlier, interrupted run of the same command."""
    process_error: str | None = None
    """Why a delivery process of a run over several processes ended before its share did (the
    run stopped; its journal keeps what has no outcome)."""

    # --- recording ------------------------------------------------------------------------

    def record_delivered(self) -> None:
        """One event delivered."""
        self.delivered += 1

    def record_failed(self, errortype: str, sent: bool) -> None:
        """One event failed with ``errortype``; ``sent`` says whether any request carried it."""
        self.failed += 1
        self.failures_by_type[errortype] += 1
        if not sent:
            self.unsent_failures_by_type[errortype] += 1

    def record_ignored(self, reason: str | None) -> None:
        """One event ignored, for ``reason`` (the outcome's ``errormessage``)."""
        self.ignored += 1
        self.ignored_by_reason[reason or "no reason given"] += 1

    def absorb(self, part: Summary) -> None:
        """Add the counts of ``part``, another share of the same run (a delivery process's):
        counts add up, flags combine, and the first reason given for stopping is kept."""
        for name in _ADDED:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.failures_by_type.update(part.failures_by_type)
        self.unsent_failures_by_type.update(part.unsent_failures_by_type)
        self.ignored_by_reason.update(part.ignored_by_reason)
        self.cancelled = self.cancelled or part.cancelled
        self.interrupted = self.interrupted or part.interrupted
        self.broken_pipe = self.broken_pipe or part.broken_pipe
        for name in _FIRST_SAID:
            if getattr(self, name) is None:
                setattr(self, name, getattr(part, name))
        if part.paced_rate is not None:
            self.paced_rate = (self.paced_rate or 0.0) + part.paced_rate
        if part.next_retry_s is not None:
            self.next_retry_s = min(part.next_retry_s, self.next_retry_s or part.next_retry_s)

    # --- reading --------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Records that reached an outcome."""
        return self.delivered + self.failed + self.ignored

    @property
    def cancelled_events(self) -> int:
        """Events recorded as cancelled (status 499): never failed by the destination."""
        return self.failures_by_type.get(CANCELLED, 0)

    @property
    def failed_for_good(self) -> int:
        """Failed events that were not merely cancelled."""
        return self.failed - self.cancelled_events

    def line(self) -> str:
        """The one-line summary: ``N delivered, M failed, K ignored`` and what is apart from them."""
        parts = [f"{self.delivered} delivered", f"{self.failed_for_good} failed", f"{self.ignored} ignored"]
        if self.cancelled_events:
            parts.append(f"{self.cancelled_events} cancelled")
        if self.released:
            parts.append(f"{self.released} not finished")
        text = ", ".join(parts)
        extras = []
        if self.stopped_because:
            extras.append(f"stopped: {self.stopped_because}")
        elif self.cancelled and not self.cancelled_events and not self.released:
            extras.append("stopped")
        if self.input_error:
            extras.append("input not read to the end")
        return f"{text} ({', '.join(extras)})" if extras else text

    def traffic_line(self) -> str | None:
        """Requests and retries, each word defined in the line itself (None before any request)."""
        if not self.requests:
            return None
        limited = f", {self.rate_limited} answered with a rate limit" if self.rate_limited else ""
        return (
            f"requests: {self.requests} made{limited}; "
            f"retries: {self.retried_items} (items sent again after a retryable answer)"
        )

    def ignored_line(self) -> str | None:
        """Why events were ignored, most frequent reasons first (None when none was)."""
        if not self.ignored_by_reason:
            return None
        common = self.ignored_by_reason.most_common()
        named = [f"{count} {reason!r}" for reason, count in common[:REASONS_SHOWN]]
        if len(common) > REASONS_SHOWN:
            rest = sum(count for _, count in common[REASONS_SHOWN:])
            named.append(f"{rest} for {len(common) - REASONS_SHOWN} other reasons (see deliverator report)")
        return "ignored: " + "; ".join(named)

    def lines(self, files: Iterable[tuple[str, Path | None]] = ()) -> list[str]:
        """Everything printed at the end of a run: the summary line, requests and retries, why
        events were ignored, and each of ``files`` (label, path) that exists and holds records."""
        found = [self.line(), self.traffic_line(), self.ignored_line()]
        found += [f"{label}: {path}" for label, path in files if _holds_records(path)]
        return [text for text in found if text]


def _holds_records(path: Path | None) -> bool:
    """Whether ``path`` is a file that was written (an empty one names nothing worth opening)."""
    try:
        return path is not None and path.stat().st_size > 0
    except OSError:
        return False
