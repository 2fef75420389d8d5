"""The caps one template evaluation runs under: the size of each value it builds, the total it
builds, and its time.

Checking each operation against its own input is not enough: ``replace('a', 'aa')`` only
doubles its input, and ten of them chained multiply it by a thousand; ``map`` applies an
allowed filter to every item of a list. So every value an operation, filter or method of the
sandbox builds is measured as it is made (:func:`measured`, :func:`charge`), against

- :data:`MAX_VALUE`: no single string, list or serialisation is longer, and
- :data:`MAX_BUILT_PER_EVALUATION`: all the values one evaluation builds add up to no more,

and every sandbox hook checks the clock (:func:`tick`) against :data:`MAX_SECONDS`. An
operation that would go over raises :class:`LimitExceeded`, whose message names the cap and
never a value; the template then renders as None (no match).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from jinja2.exceptions import SecurityError

MAX_VALUE: Final = 4 * 1024 * 1024
"""The most characters (or items) of any one value a template builds."""

MAX_BUILT_PER_EVALUATION: Final = 16 * 1024 * 1024
"""The most characters and items one evaluation builds in all."""

MAX_SECONDS = 1.0
"""The longest one evaluation may run (checked at every operation; a module attribute so that a
test can lower it)."""

T = TypeVar("T")

_state = threading.local()


class LimitExceeded(SecurityError):
    """An evaluation asked for more than a cap allows. The message never holds a value."""


class _Budget:
    __slots__ = ("deadline", "left", "seconds")

    def __init__(self, seconds: float, built: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.left = built


@contextmanager
def evaluation_limits() -> Iterator[None]:
    """Run one evaluation (a render) under fresh caps, on this thread."""
    previous = getattr(_state, "budget", None)
    _state.budget = _Budget(MAX_SECONDS, MAX_BUILT_PER_EVALUATION)
    try:
        yield
    finally:
        _state.budget = previous


def tick() -> None:
    """Raise :class:`LimitExceeded` once the evaluation has run out of time."""
    budget: _Budget | None = getattr(_state, "budget", None)
    if budget is not None and time.monotonic() > budget.deadline:
        raise LimitExceeded(f"the evaluation took longer than {budget.seconds:g} s")


def charge(size: int, what: str) -> None:
    """Account for a value of ``size`` characters or items about to be (or just) built."""
    if size > MAX_VALUE:
        raise LimitExceeded(f"{what} would build more than {MAX_VALUE} characters or items")
    budget: _Budget | None = getattr(_state, "budget", None)
    if budget is not None:
        budget.left -= size
        if budget.left < 0:
            raise LimitExceeded(f"the evaluation would build more than {MAX_BUILT_PER_EVALUATION} characters or items")
        if time.monotonic() > budget.deadline:
            raise LimitExceeded(f"the evaluation took longer than {budget.seconds:g} s")


def size_of(value: Any) -> int | None:
    """How many characters or items ``value`` holds, for the values that hold any."""
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return None


def measured(value: T, what: str) -> T:
    """``value``, once charged (see :func:`charge`)."""
    size = size_of(value)
    if size:
        charge(size, what)
    else:
        tick()
    return value
