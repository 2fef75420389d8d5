"""The sample stream of the Amplitude demo, made by arithmetic alone (no random numbers), so it
is the same on every machine and every Python.

:func:`sample_events` makes :data:`TOTAL_EVENTS` events of a music app: identify, track, page
and screen calls of 25 users, plus group and alias calls (which the destination ignores, with
a reason). Some are wrong on purpose, so the demo shows each way an event can end:

- :data:`SHORT_IDS` events whose ``userId`` is shorter than ``min_id_length`` and
  :data:`BAD_TIMES` events whose ``timestamp`` is not a time: refused before sending;
- :data:`PLACEHOLDER_IDS` events whose ``userId`` is ``"anonymous"`` (a placeholder): only Amplitude (here the
  emulator) refuses those, with a 400 naming them, and the other events of those batches are
  sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

TOTAL_EVENTS: Final = 400
USERS: Final = 25
SHORT_IDS: Final = 4
BAD_TIMES: Final = 4
PLACEHOLDER_IDS: Final = 6
GROUPS_AND_ALIASES: Final = 10
START: Final = datetime(2024, 4, 5, 8, 0, 0, tzinfo=UTC)
SONGS: Final = ("Blue Monday", "Heroes", "Teardrop", "Windowlicker", "Hyperballad", "Unfinished Sympathy")
SCREENS: Final = ("Library", "Player", "Search", "Settings")


def sample_events() -> list[dict[str, Any]]:
    """The demo's events, in order (see the module docstring for what is wrong on purpose)."""
    events = [_event(n) for n in range(TOTAL_EVENTS)]
    step = TOTAL_EVENTS // (SHORT_IDS + BAD_TIMES + PLACEHOLDER_IDS + 1)
    spots = iter(range(step // 2, TOTAL_EVENTS, step))
    for _ in range(SHORT_IDS):
        events[next(spots)]["userId"] = "u7"
    for _ in range(BAD_TIMES):
        events[next(spots)]["timestamp"] = "next tuesday"
    for _ in range(PLACEHOLDER_IDS):
        spot = events[next(spots)]
        spot["userId"] = "anonymous"
        spot.pop("anonymousId", None)
    return events


def write_sample(path: Path) -> Path:
    """Write :func:`sample_events` as JSON lines to ``path``."""
    path.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in sample_events()))
    return path


def _event(n: int) -> dict[str, Any]:
    user = f"listener-{n % USERS:03d}"
    base: dict[str, Any] = {
        "messageId": f"demo-{n:04d}",
        "userId": user,
        "anonymousId": f"device-{n % USERS:03d}-web",
        "timestamp": (START + timedelta(seconds=37 * n)).isoformat().replace("+00:00", "Z"),
        "context": {"ip": f"203.0.113.{n % USERS + 1}", "locale": "en-GB", "app": {"version": "4.2.0"}},
    }
    every = TOTAL_EVENTS // GROUPS_AND_ALIASES
    if n % every == 3:
        if (n // every) % 2:
            return {**base, "type": "group", "groupId": f"family-plan-{n % 5}", "traits": {"plan": "family"}}
        return {**base, "type": "alias", "previousId": f"device-{n % USERS:03d}-web"}
    kind = n % 10
    if kind == 0:
        return {**base, "type": "identify", "traits": {"plan": ("free", "premium")[n % 2], "favourite": SONGS[n % 6]}}
    if kind in (1, 2):
        return {**base, "type": "page", "name": ("Home", "Pricing")[n % 2], "properties": {"path": f"/p/{n % 4}"}}
    if kind == 3:
        return {**base, "type": "screen", "name": SCREENS[n % len(SCREENS)], "properties": {}}
    return {**base, "type": "track", "event": "Song Played", "properties": {"song": SONGS[n % 6], "seconds": n % 240}}
