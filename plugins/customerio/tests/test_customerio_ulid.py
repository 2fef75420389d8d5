"""Our ULID encoder and the deduplication ids built with it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator_customerio.dedup import dedup_id
from deliverator_customerio.ulid import MAX_TIME_MS, decode_ulid, encode_ulid, is_ulid

CROCKFORD_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

times = st.integers(min_value=0, max_value=MAX_TIME_MS)
entropies = st.binary(min_size=10, max_size=10)
message_ids = st.one_of(st.text(min_size=1), st.integers(min_value=-(2**63), max_value=2**63))


def test_time_part_matches_the_ulid_spec_example() -> None:
    # The ULID spec's example id 01ARYZ6S41TSV4RRFFQ69G5FAV was made at 1469918176385 ms.
    assert encode_ulid(1469918176385, bytes(10))[:10] == "01ARYZ6S41"
    assert decode_ulid("01ARYZ6S41TSV4RRFFQ69G5FAV")[0] == 1469918176385


def test_extremes_encode_to_all_zeros_and_the_largest_ulid() -> None:
    assert encode_ulid(0, bytes(10)) == "0" * 26
    assert encode_ulid(MAX_TIME_MS, b"\xff" * 10) == "7" + "Z" * 25


@given(times, entropies)
def test_any_time_and_entropy_round_trip_through_26_crockford_chars(time_ms: int, entropy: bytes) -> None:
    text = encode_ulid(time_ms, entropy)
    assert CROCKFORD_ULID.fullmatch(text) and is_ulid(text)
    assert decode_ulid(text) == (time_ms, entropy)


@given(times, times)
def test_ulids_sort_by_time(first: int, second: int) -> None:
    a, b = encode_ulid(first, bytes(10)), encode_ulid(second, bytes(10))
    assert (a < b) == (first < second)


@pytest.mark.parametrize("time_ms", [-1, MAX_TIME_MS + 1])
def test_time_outside_48_bits_is_refused(time_ms: int) -> None:
    with pytest.raises(ValueError, match="ULID time"):
        encode_ulid(time_ms, bytes(10))


def test_short_entropy_is_refused() -> None:
    with pytest.raises(ValueError, match="10 bytes"):
        encode_ulid(0, bytes(9))


@pytest.mark.parametrize(
    "text", ["", "0" * 25, "0" * 27, "8" + "0" * 25, "U" + "0" * 25, "0" * 25 + "!", "0" * 25 + "u"]
)
def test_invalid_text_is_not_a_ulid(text: str) -> None:
    assert not is_ulid(text)


def test_decode_accepts_lower_case_and_crockford_lookalikes() -> None:
    assert decode_ulid("01aryz6s41tsv4rrffq69g5fav") == decode_ulid("01ARYZ6S41TSV4RRFFQ69G5FAV")
    assert decode_ulid("O" * 26) == decode_ulid("0" * 26)


def test_decode_refuses_values_beyond_128_bits() -> None:
    with pytest.raises(ValueError, match="128 bits"):
        decode_ulid("8" + "0" * 25)


@given(message_ids, times)
def test_dedup_id_is_a_valid_ulid_that_holds_the_event_time(message_id: Any, time_ms: int) -> None:
    event = {"type": "track", "messageId": message_id}
    text = dedup_id(event, time_ms)
    assert is_ulid(text)
    assert decode_ulid(text)[0] == time_ms
    assert dedup_id(copy.deepcopy(event), time_ms) == text


@given(message_ids, message_ids)
def test_different_message_ids_give_different_ids(first: Any, second: Any) -> None:
    same = str(first) == str(second)
    assert (dedup_id({"messageId": first}, 0) == dedup_id({"messageId": second}, 0)) == same


def test_dedup_id_without_a_time_starts_with_zero_time() -> None:
    assert dedup_id({"messageId": "m-1"}, None)[:10] == "0" * 10


def test_message_id_alone_decides_the_entropy() -> None:
    a = dedup_id({"messageId": "m-1", "properties": {"a": 1}}, 5)
    b = dedup_id({"messageId": "m-1", "properties": {"a": 2}}, 5)
    assert a == b


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=8,
        ),
        max_size=6,
    )
)
def test_without_message_id_the_id_ignores_key_order(properties: dict[str, Any]) -> None:
    event = {"type": "track", "event": "E", "properties": properties}
    reordered = {"properties": dict(reversed(list(properties.items()))), "event": "E", "type": "track"}
    assert dedup_id(event, 1) == dedup_id(reordered, 1)


def test_without_message_id_different_content_gives_different_ids() -> None:
    assert dedup_id({"event": "A"}, 1) != dedup_id({"event": "B"}, 1)


def test_empty_message_id_falls_back_to_the_content() -> None:
    assert dedup_id({"messageId": "", "event": "A"}, 1) != dedup_id({"messageId": "", "event": "B"}, 1)
