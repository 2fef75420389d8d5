"""What a destination declares about itself, and the errors a plugin raises.

Kept free of I/O so that plugins, the delivery loop and the CLI can share it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class DestinationSpec:
    """A destination's name, its settings class and the limits the batcher must respect.

    ``settings_class`` is an attrs class; the config file's ``[destination.settings]`` table is
    structured into it (unknown keys are config errors). ``default_batch_items`` is used when
    the config does not say ``batch_size``; ``max_batch_items`` caps what it may say.
    """

    name: str
    settings_class: type[Any]
    max_batch_items: int = 100
    default_batch_items: int | None = None
    max_batch_bytes: int | None = None
    max_item_bytes: int | None = None
    batch_overhead_bytes: int = 0
    """Bytes the request body adds around the items (e.g. ``{"batch":[...]}``); the separators
    between items are counted one byte each."""
    description: str = ""
    batch_key: Callable[[Mapping[str, Any]], Hashable] | None = None
    """For a destination with more than one kind of request (Mixpanel's ``/import`` events and
    ``/engage`` profile updates): payloads whose keys differ never share a batch, so
    ``send_batch`` always gets one kind and makes one request. None: one kind only."""
    default_backoff: tuple[Mapping[str, Any], ...] = ()
    """The destination's own backoff, written as ``[error_handler] backoff_strategies`` entries
    are (``{"type": "exponential", "factor": 1, ...}``). Tried after the configured strategies
    and before the core's implicit 1, 2, 4, 8, 16 s; a strategy the user configures wins."""

    @property
    def batch_items(self) -> int:
        """The batch size used when the config file does not set one."""
        return self.default_batch_items or self.max_batch_items


@attrs.frozen(kw_only=True)
class CheckResult:
    """What ``deliverator check`` reports: whether the credentials work and what we learnt."""

    ok: bool
    message: str
    details: dict[str, Any] = attrs.field(factory=dict)
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class DemoSetup:
    """What ``deliverator demo`` needs from a destination that can run a demo on its own: the
    settings for a local stand-in of the service, a bundled sample stream, and a way to ask the
    stand-in how many distinct items it accepted."""

    settings: dict[str, Any]
    events_path: Path
    description: str
    received: Callable[[], int]
