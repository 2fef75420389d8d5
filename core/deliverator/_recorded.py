"""What an outcome record keeps of a destination's answer: always encodable, bounded, redacted.

An answer's body is the destination's (or an attacker's) to choose: nested deeper than orjson
writes, 9 MB long, or echoing the request's ``Authorization`` header. Every body and error
message goes through here on its way into an outcome record or dead letter:

- a body whose JSON is at most :data:`MAX_BODY_BYTES` is kept as it is;
- a longer one, or one nested too deeply to be written as JSON, is replaced by
  ``{"note": "...", "text": "<its first MAX_BODY_BYTES of JSON text>"}`` (so a 9 MB body
  answered for a batch of 250 costs 250 x 4 KB, not 2.25 GB);
- an error message is cut to :data:`MAX_MESSAGE_CHARS`;
- every configured secret and its encodings are masked (:mod:`deliverator._redaction`).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from deliverator import _redaction as redaction
from deliverator._deepjson import ORJSON_MAX_DEPTH, dumps_deep, nesting_depth
from deliverator._redaction import cut, redact, redact_bytes

MAX_BODY_BYTES: Final = 4096
"""The most JSON an outcome record's ``body`` holds; beyond it the body is kept as a note."""

MAX_MESSAGE_CHARS: Final = 4096
"""The longest ``errormessage`` recorded."""

# The last body encoded: (body, the redaction forms then, its JSON). One tuple, replaced whole,
# so a thread reading it sees a consistent entry, and an entry only ever serves its own object.
_last: tuple[Any, tuple[str, ...], bytes] = (None, (), b"null")


def body_json(body: Any) -> bytes:
    """The JSON an outcome record's ``body`` holds for ``body`` (see the module docstring).

    The last body is remembered: a whole-request answer given to every item of a batch is
    encoded once, not once per item.
    """
    global _last
    if body is None:
        return b"null"
    last = _last
    if last[0] is body and last[1] is redaction.forms():
        return last[2]
    if type(body) is BodyNote:
        return orjson.dumps(body)
    problem = None
    try:
        encoded = orjson.dumps(body, default=repr)
    except TypeError:  # too deep, or an integer beyond 64 bits: both written by hand
        encoded = dumps_deep(body)
        if nesting_depth(body, ORJSON_MAX_DEPTH) > ORJSON_MAX_DEPTH:
            problem = f"nested more than {ORJSON_MAX_DEPTH} levels deep"
    encoded = redact_bytes(encoded)
    if problem is None and len(encoded) > MAX_BODY_BYTES:
        problem = f"{len(encoded)} bytes of JSON, more than the {MAX_BODY_BYTES} an outcome record keeps"
    if problem is not None:
        encoded = orjson.dumps(note(encoded.decode("utf-8", "replace"), problem))
    _last = (body, redaction.forms(), encoded)
    return encoded


class BodyNote(dict[str, str]):
    """The note kept instead of a body that cannot be kept whole (recorded as it is)."""


def note(text: str, problem: str) -> BodyNote:
    """Why a body was not kept whole, and how it began (redacted, cut)."""
    kept = cut(redact(text), MAX_BODY_BYTES)
    return BodyNote(note=f"the answer's body was not kept whole: {problem}", text=kept)


def message(text: str | None) -> str | None:
    """An error message as recorded: secrets masked, at most :data:`MAX_MESSAGE_CHARS`."""
    if text is None:
        return None
    text = redact(text)
    return text if len(text) <= MAX_MESSAGE_CHARS else cut(text, MAX_MESSAGE_CHARS - 3) + "..."
