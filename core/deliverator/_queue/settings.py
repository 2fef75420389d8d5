"""The ``[queue]`` table of the config file: how a worker shares the stream with others."""

from __future__ import annotations

from typing import Any

import attrs


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value}")


@attrs.frozen(kw_only=True)
class QueueConfig:
    """``[queue]``: failover and reading (only ``deliverator worker`` uses it)."""

    claim_idle_s: float = attrs.field(default=30.0, validator=_positive)
    """An entry another consumer has held this long without a sign of life is claimed
    (XAUTOCLAIM). Live workers refresh what they hold well within it."""
    max_deliveries: int = attrs.field(default=10, validator=_positive)
    """An entry delivered more times than this (its consumers kept dying) fails as a poison
    message instead of being tried again."""
    read_count: int = attrs.field(default=200, validator=[_positive, attrs.validators.le(10_000)])
    """Entries asked for per read (XREADGROUP COUNT); the loop's own cap bounds what it holds."""
    block_ms: int = attrs.field(default=1000, validator=[_positive, attrs.validators.le(10_000)])
    """How long one read waits for new entries; a stop request ends the wait at once."""
