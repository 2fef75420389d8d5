"""A rich progress bar on a terminal; nothing at all otherwise."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from deliverator.delivery import Summary


class ProgressDisplay:
    """Shows bytes read (for a file) and outcomes so far; a no-op when disabled or not a TTY."""

    def __init__(self, enabled: bool, total_bytes: int | None, label: str) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._total = total_bytes
        self._label = label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        if self._enabled:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[outcomes]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=self._total, outcomes="")
        return self

    def update(self, summary: Summary, bytes_read: int) -> None:
        """Called by the run a few times a second."""
        if self._progress is None:
            return
        self._progress.update(
            self._task,
            completed=bytes_read,
            outcomes=f"{summary.delivered} delivered, {summary.failed} failed, {summary.ignored} ignored",
        )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
