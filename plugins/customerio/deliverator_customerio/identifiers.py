"""Which identifier a Customer.io item names a person by.

Customer.io accepts exactly one of ``id``, ``email`` and ``cio_id`` per person. We choose the
way Segment's Customer.io destination does, so that data sent through either lands on the same
profiles; first match wins:

1. a user id starting ``cio_`` -> ``{"cio_id": <the rest>}`` (Customer.io's own id),
2. a user id that looks like an email address -> ``{"email": ...}``,
3. any other user id -> ``{"id": ...}``,
4. an ``email`` trait -> ``{"email": ...}``,
5. an anonymous id -> ``{"anonymous_id": ...}`` (undocumented by Customer.io but accepted for
   person items, and what Segment sends for anonymous events).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from deliverator import PayloadValidationError

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
"""Loose on purpose: one ``@``, no spaces, a dot in the domain. Customer.io validates further."""

CIO_PREFIX: Final = "cio_"


def is_email(text: str) -> bool:
    """Whether ``text`` has the shape of an email address."""
    return "@" in text and _EMAIL.fullmatch(text) is not None


def known_person(user_id: str) -> dict[str, str]:
    """The identifiers for a known user id (rules 1 to 3)."""
    if user_id.startswith(CIO_PREFIX) and len(user_id) > len(CIO_PREFIX):
        return {"cio_id": user_id[len(CIO_PREFIX) :]}
    if is_email(user_id):
        return {"email": user_id}
    return {"id": user_id}


def person_identifiers(user_id: str | None, email: str | None, anonymous_id: str | None) -> dict[str, str] | None:
    """The one identifier for a person, or None when there is nothing to name them by."""
    if user_id:
        return known_person(user_id)
    if email:
        return {"email": email}
    if anonymous_id:
        return {"anonymous_id": anonymous_id}
    return None


def id_value(container: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
    """``container[key]`` as an identifier string: None when absent, null or empty; numbers
    are accepted and written as text (many sources send numeric user ids).

    Raises :class:`PayloadValidationError` naming ``where`` (default ``key``) for any other type.
    """
    value = container.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise PayloadValidationError(f"{where or key} must be a string, got {type(value).__name__}")
