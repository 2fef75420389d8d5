"""Times to integer Unix seconds: the formats events really carry, and the edges."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator_customerio.timestamps import (
    TimestampError,
    convert_nested_timestamps,
    to_epoch_ms,
    to_event_ms,
    to_unix_seconds,
)

T = 1712311872  # 2024-04-05T10:11:12Z


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2024-04-05T10:11:12Z", T),
        ("2024-04-05T10:11:12.3Z", T),
        ("2024-04-05T10:11:12.345Z", T),
        ("2024-04-05T10:11:12.345678Z", T),
        ("2024-04-05T10:11:12.345678912Z", T),
        ("2024-04-05T10:11:12,5Z", T),
        ("2024-04-05T10:11:12+00:00", T),
        ("2024-04-05T12:11:12+02:00", T),
        ("2024-04-05T15:41:12+0530", T),
        ("2024-04-05T05:11:12-05", T),
        ("2024-04-05T10:11:12", T),
        ("2024-04-05 10:11:12", T),
        ("2024-04-05T10:11Z", T - 12),
        ("2024-04-05", T - (10 * 3600 + 11 * 60 + 12)),
        (T, T),
        (float(T) + 0.9, T),
        (T * 1000 + 999, T),
        (float(T * 1000), T),
        (T * 1_000_000, T),
        (T * 1_000_000_000, T),
        (str(T), T),
        (f" {T} ", T),
        (str(T * 1000), T),
        (f"{T}.5", T),
        (0, 0),
    ],
)
def test_supported_forms_convert_to_unix_seconds(value: Any, seconds: int) -> None:
    assert to_unix_seconds(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-04-05T25:00:00Z",
        "",
        "12abc",
        "9" * 5000,
        "9" * 400 + ".5",
        True,
        None,
        [],
        {},
        float("nan"),
        float("inf"),
    ],
)
def test_unreadable_values_raise_a_timestamp_error(value: Any) -> None:
    with pytest.raises(TimestampError):
        to_epoch_ms(value)


@pytest.mark.parametrize("value", [-1, "1969-12-31T23:59:59Z", "-5"])
def test_event_times_before_1970_are_refused(value: Any) -> None:
    with pytest.raises(TimestampError, match="outside 1970"):
        to_event_ms(value)


def test_error_message_quotes_the_value() -> None:
    with pytest.raises(TimestampError, match="'next tuesday' is neither ISO-8601 nor a Unix time"):
        to_epoch_ms("next tuesday")


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]),
    )
)
def test_any_iso8601_datetime_converts_to_its_epoch_milliseconds(moment: datetime) -> None:
    expected_ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert to_epoch_ms(moment.isoformat()) == expected_ms
    assert to_unix_seconds(moment.isoformat().replace("+00:00", "Z")) == expected_ms // 1000


@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_second_and_millisecond_epochs_agree(seconds: int) -> None:
    assert to_unix_seconds(seconds) == seconds
    if seconds >= 100_000_000:  # ms values for earlier seconds would read as seconds
        assert to_unix_seconds(seconds * 1000) == seconds
        assert to_unix_seconds(str(seconds * 1000)) == seconds


def test_nested_iso_strings_convert_and_other_strings_stay() -> None:
    attributes = {
        "signed_up": "2024-04-05T10:11:12Z",
        "birthday": "2024-04-05",
        "plan": "pro",
        "code": "20240405",
        "week": "2024-W14-5",
        "spaced": "2024-04-05 10:11:12",
        "count": 3,
        "nested": {"deeper": {"at": "2024-04-05T10:11:12.999+00:00"}},
        "list": ["2024-04-05T10:11:12Z", "x"],
        "bad_day": "2024-02-31",
    }
    original = copy.deepcopy(attributes)
    converted = convert_nested_timestamps(attributes)
    assert converted == {
        "signed_up": T,
        "birthday": T - 36672,
        "plan": "pro",
        "code": "20240405",
        "week": "2024-W14-5",
        "spaced": "2024-04-05 10:11:12",
        "count": 3,
        "nested": {"deeper": {"at": T}},
        "list": [T, "x"],
        "bad_day": "2024-02-31",
    }
    assert attributes == original


json_values = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=12)
    | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(datetime.isoformat),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_nested_conversion_never_changes_its_input_and_is_idempotent(value: Any) -> None:
    original = copy.deepcopy(value)
    once = convert_nested_timestamps(value)
    assert value == original
    assert convert_nested_timestamps(once) == once
