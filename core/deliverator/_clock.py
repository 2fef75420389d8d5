"""Time, injectable: the real clock for runs, a virtual one for tests that involve waiting.

Everything in the delivery loop that waits or measures time goes through a :class:`Clock`,
so a test can run a day of backoff in milliseconds and assert the exact waits.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Protocol, TypeVar

T = TypeVar("T")

_MAX_REAL_WAIT_S = 0.25


class Clock(Protocol):
    """The time source of a run."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for waits and deadlines)."""

    def time(self) -> float:
        """Wall-clock Unix time (for HTTP-date and epoch headers)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a sender honouring a rate limit)."""

    def get(self, source: queue.SimpleQueue[T], timeout: float | None, idle: bool) -> T:
        """Take the next item from ``source``, waiting at most ``timeout`` seconds.

        ``idle`` says that nothing can arrive unless time passes (no request in flight, no
        input pending), which lets a virtual clock jump ahead instead of blocking. Raises
        ``queue.Empty`` on timeout.
        """


class RealClock:
    """The system clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def get(self, source: queue.SimpleQueue[T], timeout: float | None, idle: bool) -> T:
        if timeout is not None and timeout <= 0:
            return source.get_nowait()
        # Never block for long: a Ctrl-C only sets a flag, and the caller must get to see it
        # even when nothing else happens (a quiet stdin, nothing in flight).
        return source.get(timeout=_MAX_REAL_WAIT_S if timeout is None else min(timeout, _MAX_REAL_WAIT_S))


class FakeClock:
    """A virtual clock: sleeping and idle waits advance it instantly.

    Records every sleep in :attr:`sleeps` so tests can assert the waits a run chose.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._now = 0.0
        self._epoch = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._epoch + self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def get(self, source: queue.SimpleQueue[T], timeout: float | None, idle: bool) -> T:
        if timeout is None or not idle:
            # Something real (a request, the reader) will answer: wait for it in real time.
            return source.get()
        try:
            return source.get_nowait()
        except queue.Empty:
            self.advance(timeout)
            raise
