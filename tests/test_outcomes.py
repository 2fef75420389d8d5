"""Outcome records: the fast template for delivered events writes exactly what the general
encoder writes."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from deliverator._outcomes import DELIVERED, delivered_line, outcome_line, read_outcomes

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    index=st.integers(0, 2**40),
    message_id=st.none() | st.text(),
    status=st.integers(100, 599),
    attempts=st.integers(0, 50),
    sent=st.dictionaries(st.text(), JSON, max_size=4),
    body=JSON,
)
def test_delivered_line_matches_the_general_encoder(
    index: int, message_id: str | None, status: int, attempts: int, sent: dict[str, Any], body: Any
) -> None:
    fast = delivered_line(index, message_id, status, attempts, orjson.dumps(sent), body)
    general = outcome_line(index, message_id, DELIVERED, status, None, None, attempts, sent, body)
    assert orjson.loads(fast) == orjson.loads(general)
    assert fast.endswith(b"\n") and fast.count(b"\n") == 1
    (outcome,) = read_outcomes(fast)
    assert (outcome.index, outcome.outcome, outcome.attempts) == (index, "delivered", attempts)
