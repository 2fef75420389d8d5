"""The Track API's documented limits, in one place so the validator, the server and the tests
agree on them."""

from __future__ import annotations

from typing import Final

MAX_BATCH_BYTES: Final = 500_000
"""A batch request body must be *smaller* than this; 500,000 bytes or more is answered 413."""

MAX_ITEM_BYTES: Final = 32_000
"""One item (in a batch, or the body of an entity request) may be at most this many bytes."""

MAX_NAME_BYTES: Final = 150
"""Identifier values and attribute names: at most this many UTF-8 bytes."""

MAX_VALUE_BYTES: Final = 1000
"""One attribute value, encoded (a string's UTF-8 bytes, anything else as JSON)."""

MAX_ATTRIBUTES: Final = 300
"""Attributes in one item's ``attributes`` object."""

MAX_EVENT_NAME_BYTES: Final = 100
"""The ``name`` of a person ``event``."""

MAX_READ_BYTES: Final = 16 * 1024 * 1024
"""Bodies larger than this are refused without being read (and the connection closed), so a
runaway client cannot make the emulator buffer without bound."""
