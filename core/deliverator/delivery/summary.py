"""What a run did, in numbers: the end-of-run line and the demo's table."""

from __future__ import annotations

from collections import Counter

import attrs


@attrs.define(kw_only=True)
class Summary:
    """Counts kept by the outcome writer and the senders."""

    delivered: int = 0
    failed: int = 0
    ignored: int = 0
    requests: int = 0
    retried_items: int = 0
    rate_limited: int = 0
    cancelled: bool = False
    input_error: str | None = None
    """Why reading the input stopped early, if it did (the records read were all delivered)."""
    failures_by_type: Counter[str] = attrs.field(factory=Counter)
    unsent_failures_by_type: Counter[str] = attrs.field(factory=Counter)
    """The part of ``failures_by_type`` that never reached the destination (refused locally)."""
    released: int = 0
    """Events read and left without an outcome because a resumable run stopped (sent next time)."""
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

    @property
    def total(self) -> int:
        """Records that reached an outcome."""
        return self.delivered + self.failed + self.ignored

    def line(self) -> str:
        """The one-line summary printed at the end of ``deliver``."""
        text = f"{self.delivered} delivered, {self.failed} failed, {self.ignored} ignored"
        extras = []
        if self.retried_items:
            extras.append(_count(self.retried_items, "retry", "retries"))
        if self.rate_limited:
            extras.append(_count(self.rate_limited, "rate-limited response", "rate-limited responses"))
        if self.cancelled:
            extras.append("cancelled")
        if self.stopped_because:
            extras.append(f"stopped: {self.stopped_because}")
        if self.input_error:
            extras.append("input not read to the end")
        return f"{text} ({', '.join(extras)})" if extras else text


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
