"""Mixpanel's documented ingestion limits, in one place so the validator, the server and the
tests agree on them."""

from __future__ import annotations

from typing import Final

MAX_EVENTS_PER_REQUEST: Final = 2000
"""Events in one ``/import`` request, and updates in one ``/engage`` request."""

MAX_REQUEST_BYTES: Final = 10 * 1024 * 1024
"""An ``/import`` body, uncompressed. Older pages say 2 MB; the emulator can be started with a
lower limit to play that part (``Emulator(max_request_bytes=...)``)."""

MAX_EVENT_BYTES: Final = 1024 * 1024
"""One event (or one profile update), encoded: it must be smaller than this."""

MAX_PROPERTIES: Final = 255
"""An event must have fewer properties than this; nested objects fewer keys, arrays fewer items."""

MAX_NESTING_DEPTH: Final = 3
"""Objects may nest this deep inside ``properties``."""

MAX_STRING_CHARS: Final = 255
"""String values are truncated to this many characters (not refused)."""

MAX_INSERT_ID_BYTES: Final = 36

EARLIEST_TIME_MS: Final = 31_536_000_000
"""1971-01-01T00:00:00Z: earlier events are refused."""

FUTURE_SLACK_MS: Final = 3_600_000
"""Events more than an hour ahead of the server's clock are refused."""

PLACEHOLDER_IDS: Final = frozenset(
    {
        "",
        "0",
        "-1",
        "anon",
        "anonymous",
        "null",
        "nil",
        "none",
        "undefined",
        "unknown",
        "[]",
        "{}",
        "lmy47d",
        "00000000-0000-0000-0000-000000000000",
        "<nil>",
    }
)
"""Values Mixpanel refuses as a ``distinct_id`` or ``$insert_id`` (compared case-insensitively;
``""`` is refused only as an insert id: an empty distinct id is allowed)."""

MAX_READ_BYTES: Final = 32 * 1024 * 1024
"""Bodies larger than this are refused unread, so a runaway client cannot make the emulator
buffer without bound."""
