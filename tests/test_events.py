"""Segment-spec checks on input records."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from deliverator._events import InvalidRecord, check_event, decode_record


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"userId": "u"}, "missing field 'type'"),
        ({"type": "purchase", "userId": "u"}, "unknown type 'purchase'"),
        ({"type": "identify"}, "identify event needs 'userId' or 'anonymousId'"),
        ({"type": "identify", "userId": "  "}, "needs 'userId' or 'anonymousId'"),
        ({"type": "track", "userId": "u"}, "track event needs 'event'"),
        ({"type": "group", "anonymousId": "a"}, "group event needs 'groupId'"),
        ({"type": "alias", "userId": "u"}, "alias event needs 'previousId'"),
        ([], "not a JSON object (got an array)"),
        ("x", "not a JSON object (got a string)"),
    ],
)
def test_invalid_events_are_named(event: Any, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_event(event)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "identify", "userId": "u"},
        {"type": "identify", "anonymousId": "a"},
        {"type": "identify", "userId": 42},
        {"type": "track", "userId": "u", "event": "Bought"},
        {"type": "page", "userId": "u"},
        {"type": "screen", "userId": "u"},
        {"type": "group", "userId": "u", "groupId": "g"},
        {"type": "alias", "userId": "u", "previousId": "p"},
    ],
)
def test_valid_events_pass(event: dict[str, Any]) -> None:
    assert check_event(event) is event


def test_dead_letter_record_unwraps_to_the_original_event() -> None:
    original = {"type": "track", "userId": "u", "event": "x"}
    line = orjson.dumps(
        {"event": original, "index": 3, "status": 400, "errortype": "BAD_REQUEST", "errormessage": "m", "attempts": 1}
    )
    record, raw = decode_record(line)
    assert record == original
    assert orjson.loads(raw) == original


def test_a_track_event_is_not_mistaken_for_a_dead_letter() -> None:
    line = b'{"type": "track", "event": "x", "index": 1, "errortype": "y", "errormessage": "z", "userId": "u"}'
    record, _ = decode_record(line)
    assert record["type"] == "track"


def test_dead_letter_of_a_raw_line_is_judged_again_and_keeps_the_raw_line() -> None:
    line = orjson.dumps(
        {"event": "{broken", "index": 0, "status": 400, "errortype": "X", "errormessage": "m", "attempts": 0}
    )
    with pytest.raises(InvalidRecord) as info:
        decode_record(line)
    assert info.value.raw == b"{broken"
