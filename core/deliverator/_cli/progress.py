"""Live progress on a terminal (rich); nothing at all otherwise.

It counts events, not bytes: outcomes recorded out of the total when the source knows it,
out of an estimate for a file (its size over the average size of the lines read so far,
shown with a ``~``), and no total at all for standard input. Beside the count: events per
second over the last few seconds, the time left, the outcomes so far, and what the run is
waiting on (events waiting for a retry, a rate-limit pause). A stopped run says "stopping",
and "resumable" when the same command will finish it.

Everything shown comes from the run's :class:`~deliverator._delivery.Summary` and the bytes
read; :func:`progress_view` turns them into text and is tested without a terminal.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from types import TracebackType
from typing import Any, Final

import attrs

from deliverator._delivery import Summary

_RATE_WINDOW_S: Final = 5.0
_BAR_WIDTH: Final = 30


@attrs.frozen(kw_only=True)
class ProgressView:
    """One frame of the display, as text (the bar's share is ``fraction``, None: no bar)."""

    label: str
    fraction: float | None
    count: str
    rate: str
    eta: str
    outcomes: str
    waiting: str


def estimated_total(summary: Summary, bytes_read: int, total_bytes: int | None) -> tuple[int | None, bool]:
    """The number of input records, and whether it is an estimate.

    Known when the source says so, or when a file has been read to its end (then the records
    read are all there are); estimated from the average size of the lines read so far while a
    file is being read; unknown for a stream (and for a run that does not count what it reads).
    """
    if summary.expected is not None:
        return summary.expected, False
    if total_bytes is None or not summary.read:
        return None, False
    if bytes_read >= total_bytes:
        return summary.read, False
    if not bytes_read:
        return None, False
    return max(summary.read, round(summary.read * total_bytes / bytes_read)), True


def progress_view(
    summary: Summary,
    bytes_read: int,
    total_bytes: int | None,
    *,
    label: str,
    rate: float | None,
    resumable: bool,
    now: float,
    finished_after_s: float | None = None,
) -> ProgressView:
    """What the display shows for ``summary`` (``rate`` in events/s, None before it is known;
    ``finished_after_s``: the run has ended, after that long)."""
    done = summary.total
    total, estimate = estimated_total(summary, bytes_read, total_bytes)
    if finished_after_s is not None and not summary.cancelled and total_bytes is not None:
        total, estimate = done, False  # a file read to its end: every record has its outcome
    if summary.cancelled:
        label = "stopping"
    fraction = None if total is None else (min(1.0, done / total) if total else 1.0)
    if total is not None:
        count = f"{done:,}/{'~' if estimate else ''}{total:,} events"
    elif total_bytes:
        count = f"{done:,} events ({min(100, 100 * bytes_read // total_bytes)} % of the file read)"
    else:
        count = f"{done:,} events"
    rate_text = f"{rate:,.0f} events/s" if rate is not None else ""
    eta = ""
    if finished_after_s is not None:
        eta = f"in {_duration(finished_after_s)}"
        label = "stopped" if summary.cancelled else "done"
    elif total is not None and rate and not summary.cancelled:
        eta = f"ETA {_duration(max(0, total - done) / rate)}"
    outcomes = f"{summary.delivered:,} delivered · {summary.failed_for_good:,} failed · {summary.ignored:,} ignored"
    if summary.cancelled_events:
        outcomes += f" · {summary.cancelled_events:,} cancelled"
    waiting = []
    if summary.waiting_retry:
        soon = f" (next in {summary.next_retry_s:.1f} s)" if summary.next_retry_s is not None else ""
        waiting.append(f"{summary.waiting_retry:,} waiting to retry{soon}")
    if summary.paced_rate is not None:
        slowed = "slowed to" if summary.rate_limited else "paced at"
        waiting.append(f"{slowed} {summary.paced_rate:.1f} requests/s")
    traffic = f"{summary.requests:,} requests, {summary.retried_items:,} retries"
    if summary.rate_limited:
        traffic += f", {summary.rate_limited:,} rate-limited"
    notes = ["resumable: the same command finishes the run"] if summary.cancelled and resumable else []
    return ProgressView(
        label=label,
        fraction=fraction,
        count=count,
        rate=rate_text,
        eta=eta,
        outcomes=outcomes,
        waiting=" · ".join([*notes, traffic, *waiting]),
    )


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class _Rate:
    """Events per second over the last few seconds of updates."""

    def __init__(self) -> None:
        self._points: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> float | None:
        points = self._points
        points.append((now, done))
        while len(points) > 2 and now - points[0][0] > _RATE_WINDOW_S:
            points.popleft()
        first_at, first_done = points[0]
        if now - first_at < 0.5:
            return None
        return (done - first_done) / (now - first_at)


class ProgressDisplay:
    """The live display of one run; a no-op when disabled or when stderr is not a terminal."""

    def __init__(self, enabled: bool, total_bytes: int | None, label: str, *, resumable: bool = False) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._total_bytes = total_bytes
        self._label = label
        self._resumable = resumable
        self._live: Any = None
        self._started = time.monotonic()
        self._rate = _Rate()
        self._last: tuple[Summary, int] | None = None

    def __enter__(self) -> ProgressDisplay:
        if self._enabled:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(stderr=True), auto_refresh=False, transient=False)
            self._live.start()
        return self

    @property
    def live(self) -> bool:
        """Whether the display is drawing (on a terminal, enabled, started)."""
        return self._live is not None

    def update(self, summary: Summary, bytes_read: int) -> None:
        """Called by the run a few times a second."""
        if self._live is None:
            return
        self._last = (summary, bytes_read)
        self._live.update(self._render(summary, bytes_read), refresh=True)

    def _render(self, summary: Summary, bytes_read: int, finished: bool = False) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        view = progress_view(
            summary,
            bytes_read,
            self._total_bytes,
            label=self._label,
            rate=self._rate.add(now, summary.total),
            resumable=self._resumable,
            now=now,
            finished_after_s=now - self._started if finished else None,
        )
        grid = Table.grid(padding=(0, 1))
        top: list[Any] = [Text(view.label, style="bold yellow" if summary.cancelled else "bold")]
        if finished and view.label != self._label:
            top.insert(0, Text(self._label, style="bold"))
        if view.fraction is not None:
            top.append(ProgressBar(total=1.0, completed=view.fraction, width=_BAR_WIDTH))
        top += [Text(view.count), Text(view.rate, style="cyan"), Text(view.eta, style="cyan")]
        for _ in top:
            grid.add_column()
        grid.add_row(*top)
        lines = Table.grid()
        lines.add_row(grid)
        lines.add_row(Text("  " + view.outcomes, overflow="fold"))
        lines.add_row(Text("  " + view.waiting, style="dim", overflow="fold"))
        return lines

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            if self._last is not None:
                self._live.update(self._render(*self._last, finished=True), refresh=True)
            self._live.stop()
