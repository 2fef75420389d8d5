"""The HTTP V2 API's documented limits, in one place so the validator, the server and the tests
agree on them."""

from __future__ import annotations

from typing import Final

MAX_EVENTS: Final = 2000
"""Events in one request; more is answered 413."""

MAX_BODY_BYTES: Final = 1_000_000
"""A request body must be *smaller* than this (1 MB); a body this large or larger is answered 413."""

MAX_STRING_CHARS: Final = 1024
"""Amplitude caps string values at this many characters (longer ones are cut, not refused)."""

DEFAULT_MIN_ID_LENGTH: Final = 5
"""User and device ids shorter than this are removed, unless ``options.min_id_length`` says otherwise."""

THROTTLE_EPS: Final = 30
"""The documented per-user and per-device limit: 30 events per second, averaged."""

DEDUP_WINDOW_S: Final = 7 * 86_400
"""An ``insert_id`` is remembered this long (7 days of the emulator's clock)."""

MAX_READ_BYTES: Final = 16 * 1024 * 1024
"""Bodies larger than this are refused without being read (and the connection closed), so a
runaway client cannot make the emulator buffer without bound."""
