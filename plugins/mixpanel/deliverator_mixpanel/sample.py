"""The demo's sample stream: a small, reproducible day of an imaginary app.

Mostly valid track, page, screen and identify events from 40 users, plus a few group and alias
calls (ignored by this destination) and a few invalid ones on purpose: some refused before
sending (no time at all, properties that are not an object), some refused by Mixpanel's own
validation and answered in ``failed_records`` (a placeholder ``distinct_id``, properties
nested too deep). The same seed always gives the same bytes.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

TOTAL_EVENTS: Final = 300
START: Final = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
PLACEHOLDER_USERS: Final = 6
"""Events whose userId is ``"null"``: Mixpanel refuses that distinct id."""
TOO_DEEP: Final = 4
"""Events whose properties nest deeper than Mixpanel's 3 levels."""
NO_TIME: Final = 3
NOT_AN_OBJECT: Final = 3

_EVENTS: Final = ("Song Played", "Playlist Created", "Song Liked", "Subscription Started", "Search")
_PAGES: Final = ("Home", "Pricing", "Library", "Settings")
_SCREENS: Final = ("Player", "Queue", "Profile")


def sample_events(seed: int = 12) -> list[dict[str, Any]]:
    """The sample stream as events, in order."""
    dice = random.Random(seed)
    users = [f"user-{number:03d}" for number in range(1, 41)]
    now = START
    events: list[dict[str, Any]] = []
    for number in range(TOTAL_EVENTS):
        now += timedelta(seconds=dice.randint(1, 60), milliseconds=dice.randint(0, 999))
        user = dice.choice(users)
        event: dict[str, Any] = {"messageId": f"demo-{seed}-{number:04d}", "userId": user}
        event["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        draw = dice.random()
        if draw < 0.55:
            event.update(type="track", event=dice.choice(_EVENTS), properties={"plan": dice.choice(("free", "pro"))})
        elif draw < 0.75:
            event.update(type="page", name=dice.choice(_PAGES), properties={"path": "/" + dice.choice(_PAGES).lower()})
        elif draw < 0.85:
            event.update(type="screen", name=dice.choice(_SCREENS), anonymousId=f"device-{dice.randrange(10**6):06d}")
        elif draw < 0.95:
            event.update(type="identify", traits={"name": user.replace("-", " ").title(), "plan": "pro"})
        elif draw < 0.98:
            event.update(type="group", groupId=f"team-{dice.randint(1, 5)}", traits={"name": "A team"})
        else:
            event.update(type="alias", previousId=f"device-{dice.randrange(10**6):06d}")
        events.append(event)
    _spoil(events, dice)
    return events


def _spoil(events: list[dict[str, Any]], dice: random.Random) -> None:
    tracks = [event for event in events if event["type"] == "track"]
    chosen = dice.sample(tracks, PLACEHOLDER_USERS + TOO_DEEP + NO_TIME + NOT_AN_OBJECT)
    for event in chosen[:PLACEHOLDER_USERS]:
        event["userId"] = "null"
    for event in chosen[PLACEHOLDER_USERS : PLACEHOLDER_USERS + TOO_DEEP]:
        event["properties"] = {"a": {"b": {"c": {"d": {"e": "too deep"}}}}}
    for event in chosen[PLACEHOLDER_USERS + TOO_DEEP : -NOT_AN_OBJECT]:
        del event["timestamp"]
    for event in chosen[-NOT_AN_OBJECT:]:
        event["properties"] = "plan=pro"


def write_sample(path: Path, seed: int = 12) -> Path:
    """Write the sample stream as JSONL to ``path``; returns ``path``."""
    lines = (json.dumps(event, separators=(",", ":")) for event in sample_events(seed))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
