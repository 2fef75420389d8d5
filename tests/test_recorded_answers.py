"""Invariants of what an outcome record keeps of an answer (recorded, deepjson, redaction):
always valid JSON, bounded, and never a remembered secret in any of its encodings."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverator import _redaction as redaction
from deliverator._deepjson import dumps_deep, nesting_depth
from deliverator._http import HttpClient, TransportError
from deliverator._recorded import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, body_json, message


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets remembered here are forgotten afterwards: the registry is process-wide, and
    random "secrets" must not mask text in other tests."""
    for name in ("_forms", "_pattern", "_byte_pattern"):
        monkeypatch.setattr(redaction, name, getattr(redaction, name))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=60,
)


def _nest(value: Any, levels: int) -> Any:
    for number in range(levels):
        value = [value] if number % 2 else {"k": value}
    return value


@given(json_values, st.integers(0, 900))
@settings(max_examples=60, deadline=None)
def test_dumps_deep_writes_any_depth_as_the_json_orjson_would(value: Any, levels: int) -> None:
    nested = _nest(value, levels)
    written = dumps_deep(nested)
    if levels < 200:
        assert written == orjson.dumps(nested)
    assert nesting_depth(orjson.loads(written), 2000) == nesting_depth(nested, 2000)


@given(json_values, st.integers(0, 900), st.integers(0, 20_000))
@settings(max_examples=60, deadline=None)
def test_a_recorded_body_is_always_json_and_bounded(value: Any, levels: int, padding: int) -> None:
    body = _nest({"v": value, "pad": "x" * padding}, levels)
    encoded = body_json(body)
    parsed = orjson.loads(encoded)
    assert len(encoded) <= 7 * MAX_BODY_BYTES  # the note's text, JSON-escaped at worst
    if isinstance(parsed, dict) and set(parsed) == {"note", "text"} and levels + padding:
        assert len(parsed["text"]) <= MAX_BODY_BYTES
    else:
        assert encoded == orjson.dumps(body)


def test_integers_beyond_64_bits_in_a_body_keep_their_digits() -> None:
    assert body_json({"id": 2**70, "n": [-(2**65)]}) == b'{"id":1180591620717411303424,"n":[-36893488147419103232]}'


def test_a_body_orjson_cannot_write_becomes_a_note() -> None:
    note = orjson.loads(body_json(_nest(1, 300)))
    assert "nested more than 254 levels deep" in note["note"]
    assert note["text"].startswith('[{"k":[{"k":')


@given(
    st.text(st.characters(codec="utf-8"), min_size=4, max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=20),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_remembered_secret_is_masked_in_every_encoding_a_request_carries(
    secret: str, user: str, stranger: str
) -> None:
    redaction.remember([secret], [user])
    forms = [
        secret,
        base64.b64encode(f"{user}:{secret}".encode()).decode(),
        urllib.parse.quote(secret, safe=""),
        orjson.dumps(secret).decode()[1:-1],
    ]
    for form in forms:
        text = f"before {form} after"
        assert form.rstrip("=") not in redaction.redact(text)
        assert form.rstrip("=").encode() not in redaction.redact_bytes(text.encode())
    # Paired with a user name nobody configured, only the base64 of the secret's own bytes is
    # recognisable: at most the characters that mix its first and last bytes with the others remain.
    unknown = base64.b64encode(f"{stranger}:{secret}".encode()).decode()
    masked = redaction.redact(unknown)
    assert "********" in masked and len(masked.replace("********", "").rstrip("=")) <= len(unknown) - len(secret)


def test_messages_are_masked_and_cut() -> None:
    redaction.remember(["message-secret-1"])
    assert message("no: message-secret-1") == "no: ********"
    assert message(None) is None
    long = message("y" * (MAX_MESSAGE_CHARS * 2))
    assert long is not None and len(long) == MAX_MESSAGE_CHARS and long.endswith("...")


def test_a_cut_never_leaves_the_beginning_of_a_secret() -> None:
    redaction.remember(["cut-secret-abcdef"])
    text = "z" * (MAX_BODY_BYTES - 6) + "cut-secret-abcdef"
    note = orjson.loads(body_json({"t": text}))
    assert "cut-se" not in note["text"]


def test_urls_in_messages_lose_user_info_and_query() -> None:
    text = "got 'ftp://bob:hunter22@host:21/p?api_key=k-123456&x=1' and https://ok.example/x"
    masked = "got 'ftp://********@host:21/p?api_key=********&x=1' and https://ok.example/x"
    assert redaction.redact_urls(text) == masked
    assert redaction.url_credentials("https://bob:hunter22@h/?api_key=k-123456&region=eu") == ["hunter22", "k-123456"]


@pytest.mark.parametrize(
    "url", ["http://user:hunter22@exa mple.com/?api_key=hunter22", "http://[bad/?token=hunter22", "ftp://hunter22@h/"]
)
def test_a_url_the_client_cannot_use_is_named_without_its_credentials(url: str) -> None:
    with pytest.raises(TransportError) as caught:
        HttpClient().post(url, body=b"{}")
    assert "hunter22" not in str(caught.value)
