"""Per-item results of one batch request: Segment's MultiStatus model, in attrs.

A destination's ``parse_response`` returns a :class:`MultiStatusResponse` with one entry per
payload, in the order the payloads were sent. The delivery loop turns each entry into the
event's outcome (delivered, failed or ignored), or into a retry when the entry is a retryable
error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

import attrs

from deliverator.errorcodes import ErrorCode, is_retryable

JSONLike: TypeAlias = Any
"""What ``sent`` and ``body`` hold: a decoded JSON value, a string, or None."""


def _to_error_code(value: ErrorCode | str | None) -> ErrorCode | None:
    if value is None or isinstance(value, ErrorCode):
        return value
    try:
        return ErrorCode(value)
    except ValueError:
        raise ValueError(f"unknown errortype {value!r}: use an ErrorCode name") from None


@attrs.frozen(kw_only=True)
class SuccessResponse:
    """One item that the destination accepted."""

    status: int = 200
    sent: JSONLike = None
    body: JSONLike = None


@attrs.frozen(kw_only=True)
class ErrorResponse:
    """One item that the destination refused, or that never reached it.

    Built without ``errortype``, the error type is the name of ``status`` in Segment's table
    (``UNKNOWN_ERROR`` for a status without a name), so every error carries a type. A retryable
    entry with ``retry_after_s`` is not sent again sooner than that many seconds (a service that
    throttles some users or devices of a batch, as Amplitude does).

    Example::

        ErrorResponse(status=429, errormessage="user throttled", retry_after_s=30.0)
    """

    status: int
    errormessage: str
    errortype: ErrorCode = attrs.field(default=None, converter=_to_error_code)
    sent: JSONLike = None
    body: JSONLike = None
    retry_after_s: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.errortype is None:
            object.__setattr__(self, "errortype", ErrorCode.for_status(self.status))

    @property
    def retryable(self) -> bool:
        """Whether the default rule allows this item to be sent again."""
        return is_retryable(self.status, self.errortype)


@attrs.frozen(kw_only=True)
class IgnoredResponse:
    """One item the destination deliberately did not take: its outcome is ``ignored`` with
    ``reason`` as the message. It is never retried and never a dead letter.

    Example::

        IgnoredResponse(reason="alias events are not imported by this service")
    """

    status: int = 200
    reason: str
    sent: JSONLike = None
    body: JSONLike = None


ItemResponse: TypeAlias = SuccessResponse | ErrorResponse | IgnoredResponse


def as_success(response: SuccessResponse | Mapping[str, Any]) -> SuccessResponse:
    """Accept a :class:`SuccessResponse` or a plain mapping of its fields."""
    if isinstance(response, SuccessResponse):
        return response
    return SuccessResponse(**response)


def as_error(response: ErrorResponse | Mapping[str, Any]) -> ErrorResponse:
    """Accept an :class:`ErrorResponse` or a plain mapping of its fields."""
    if isinstance(response, ErrorResponse):
        return response
    return ErrorResponse(**response)


def as_ignored(response: IgnoredResponse | Mapping[str, Any]) -> IgnoredResponse:
    """Accept an :class:`IgnoredResponse` or a plain mapping of its fields."""
    if isinstance(response, IgnoredResponse):
        return response
    return IgnoredResponse(**response)


def as_item_response(response: ItemResponse | Mapping[str, Any]) -> ItemResponse:
    """A typed response from any kind or a mapping (one with ``errormessage`` or ``errortype``
    is an error, one with ``reason`` and no ``errormessage`` is ignored, any other a success)."""
    if isinstance(response, SuccessResponse | ErrorResponse | IgnoredResponse):
        return response
    if "reason" in response and "errormessage" not in response:
        return as_ignored(response)
    if "errormessage" in response or "errortype" in response:
        return as_error(response)
    return as_success(response)


class MultiStatusResponse:
    """An ordered list of item responses, with gaps allowed while it is being filled.

    ``set_*`` at an index past the end grows the list; the slots in between stay unset
    (``None``) until something is set there. Plain mappings are accepted wherever a response
    is expected.

    Example::

        statuses = MultiStatusResponse()
        statuses.push_success(status=200, sent=payloads[0])
        statuses.push_error(status=400, errormessage="bad email", sent=payloads[1])
        statuses.push_ignored(reason="not imported", sent=payloads[2])
    """

    __slots__ = ("_items",)

    def __init__(self, responses: list[ItemResponse | Mapping[str, Any]] | None = None) -> None:
        self._items: list[ItemResponse | None] = [as_item_response(r) for r in responses or ()]

    def __repr__(self) -> str:
        return (
            f"MultiStatusResponse(success={self.success_count}, error={self.error_count}, "
            f"ignored={self.ignored_count}, len={len(self)})"
        )

    def _grow_to(self, index: int) -> None:
        if index < 0:
            raise IndexError(f"index {index} is negative")
        if index >= len(self._items):
            self._items.extend([None] * (index + 1 - len(self._items)))

    def set_success(
        self, index: int, response: SuccessResponse | Mapping[str, Any] | None = None, **fields: Any
    ) -> None:
        """Record item ``index`` as delivered (from a response, a mapping or keyword fields)."""
        self._grow_to(index)
        self._items[index] = as_success(response if response is not None else fields)

    def set_error(self, index: int, response: ErrorResponse | Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Record item ``index`` as failed (from a response, a mapping or keyword fields)."""
        self._grow_to(index)
        self._items[index] = as_error(response if response is not None else fields)

    def set_ignored(
        self, index: int, response: IgnoredResponse | Mapping[str, Any] | None = None, **fields: Any
    ) -> None:
        """Record item ``index`` as ignored (from a response, a mapping or keyword fields)."""
        self._grow_to(index)
        self._items[index] = as_ignored(response if response is not None else fields)

    def push_success(self, response: SuccessResponse | Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Append a success."""
        self._items.append(as_success(response if response is not None else fields))

    def push_error(self, response: ErrorResponse | Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Append an error."""
        self._items.append(as_error(response if response is not None else fields))

    def push_ignored(self, response: IgnoredResponse | Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Append an ignored item."""
        self._items.append(as_ignored(response if response is not None else fields))

    def push(self, response: ItemResponse | Mapping[str, Any]) -> None:
        """Append a response of any kind."""
        self._items.append(as_item_response(response))

    def unset(self, index: int) -> None:
        """Clear item ``index`` (the slot stays, holding nothing)."""
        self._grow_to(index)
        self._items[index] = None

    def is_success(self, index: int) -> bool:
        """Whether item ``index`` is set to a success."""
        return isinstance(self.get(index), SuccessResponse)

    def is_error(self, index: int) -> bool:
        """Whether item ``index`` is set to an error."""
        return isinstance(self.get(index), ErrorResponse)

    def is_ignored(self, index: int) -> bool:
        """Whether item ``index`` is set to ignored."""
        return isinstance(self.get(index), IgnoredResponse)

    def get(self, index: int) -> ItemResponse | None:
        """The response at ``index``, or None when unset or past the end."""
        if 0 <= index < len(self._items):
            return self._items[index]
        return None

    def responses(self) -> list[ItemResponse | None]:
        """A copy of every slot, unset ones as None."""
        return list(self._items)

    def len(self) -> int:
        """How many slots there are, unset ones included (Segment's ``length()``)."""
        return len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ItemResponse | None]:
        return iter(self._items)

    @property
    def success_count(self) -> int:
        """How many slots hold a success."""
        return sum(isinstance(r, SuccessResponse) for r in self._items)

    @property
    def error_count(self) -> int:
        """How many slots hold an error."""
        return sum(isinstance(r, ErrorResponse) for r in self._items)

    @property
    def ignored_count(self) -> int:
        """How many slots hold an ignored item."""
        return sum(isinstance(r, IgnoredResponse) for r in self._items)
