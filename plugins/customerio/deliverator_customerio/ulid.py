"""ULIDs: the 26-character ids Customer.io uses to drop duplicate events.

A ULID is 128 bits written in Crockford's base32: 48 bits of Unix time in milliseconds (the
first 10 characters) then 80 bits that should be unique (the last 16). We never draw the 80
bits at random: the caller passes a hash of the event, so the same event always gets the same
id, in every retry and every re-run, and Customer.io's deduplication can do its job.
"""

from __future__ import annotations

from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32 digits: no I, L, O or U, so ids survive being read aloud or retyped."""

TIME_BITS: Final = 48
ENTROPY_BITS: Final = 80
MAX_TIME_MS: Final = (1 << TIME_BITS) - 1
ENTROPY_BYTES: Final = ENTROPY_BITS // 8

_DECODE: Final = {char: value for value, char in enumerate(ALPHABET)}
# Lower-case input and the letters Crockford maps to digits decode too, as his spec asks.
_DECODE.update({char.lower(): value for char, value in list(_DECODE.items())})
_DECODE.update({"I": 1, "i": 1, "L": 1, "l": 1, "O": 0, "o": 0})


def encode_ulid(time_ms: int, entropy: bytes) -> str:
    """The ULID made of ``time_ms`` (0 ≤ time_ms < 2**48) and the first 10 bytes of ``entropy``.

    Raises ``ValueError`` for a time out of range or fewer than 10 bytes of entropy.
    """
    if not 0 <= time_ms <= MAX_TIME_MS:
        raise ValueError(f"ULID time must be within 0..{MAX_TIME_MS} ms, got {time_ms}")
    if len(entropy) < ENTROPY_BYTES:
        raise ValueError(f"ULID entropy needs {ENTROPY_BYTES} bytes, got {len(entropy)}")
    value = (time_ms << ENTROPY_BITS) | int.from_bytes(entropy[:ENTROPY_BYTES], "big")
    # 26 digits hold 130 bits; read them two digits (10 bits) at a time from the top. This
    # runs once per event on the hot path, so it is a table lookup, not a loop over digits.
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


_PAIRS: Final = tuple(ALPHABET[pair >> 5] + ALPHABET[pair & 31] for pair in range(1024))
_SHIFTS: Final = tuple(range(120, -1, -10))


def decode_ulid(text: str) -> tuple[int, bytes]:
    """The (time in ms, 10 entropy bytes) a ULID holds; ``ValueError`` if it is not one."""
    if len(text) != 26:
        raise ValueError(f"a ULID has 26 characters, got {len(text)}")
    value = 0
    for char in text:
        digit = _DECODE.get(char)
        if digit is None:
            raise ValueError(f"{char!r} is not a Crockford base32 digit")
        value = (value << 5) | digit
    if value >> (TIME_BITS + ENTROPY_BITS):
        raise ValueError("a ULID's first character must be 0-7 (the value exceeds 128 bits)")
    return value >> ENTROPY_BITS, (value & ((1 << ENTROPY_BITS) - 1)).to_bytes(ENTROPY_BYTES, "big")


def is_ulid(text: object) -> bool:
    """Whether ``text`` is a canonical ULID: 26 upper-case Crockford digits, within 128 bits."""
    if not isinstance(text, str) or len(text) != 26 or text[0] > "7":
        return False
    return all(char in _CANONICAL for char in text)


_CANONICAL: Final = frozenset(ALPHABET)
