"""The ``--queue`` URL: defaults, names, and errors that say what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator._errors import ConfigError
from deliverator._queue.url import QueueUrl, parse_queue_url


def test_defaults_are_the_design_names() -> None:
    url = parse_queue_url("redis://localhost")
    assert (url.host, url.port, url.db, url.stream, url.group) == (
        "localhost",
        6379,
        0,
        "deliverator:events",
        "deliverator",
    )
    assert url.outcomes_stream == "deliverator:events:outcomes"
    assert url.dead_letter_stream == "deliverator:events:dead-letters"


def test_port_db_stream_and_group_are_read() -> None:
    url = parse_queue_url("redis://10.0.0.5:6380/3?stream=shop:events&group=mixpanel")
    assert (url.host, url.port, url.db, url.stream, url.group) == ("10.0.0.5", 6380, 3, "shop:events", "mixpanel")
    assert url.outcomes_stream == "shop:events:outcomes"
    assert not url.tls


def test_rediss_means_tls() -> None:
    assert parse_queue_url("rediss://cache.example.com:6380/0").tls


def test_a_password_never_shows() -> None:
    url = parse_queue_url("redis://worker:s3cr%40t@cache:6379/0")
    assert url.username == "worker"
    assert url.password is not None and url.password.reveal() == "s3cr@t"
    for shown in (str(url), repr(url), f"{url}"):
        assert "s3cr" not in shown
    assert "worker:********@cache" in str(url)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://localhost:6379", "starts with redis:// or rediss://"),
        ("localhost:6379", "starts with redis:// or rediss://"),
        ("redis://", "names no host"),
        ("redis://localhost:port", "not a valid queue URL"),
        ("redis://localhost/zero", "database in a queue URL is a number"),
        ("redis://localhost/0?topic=x", "unknown queue URL parameter 'topic'"),
        ("redis://localhost/0?stream=", "stream= is empty"),
        ("redis://localhost/0?group=a&group=b", "group= more than once"),
    ],
)
def test_bad_urls_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="--queue") as caught:
        parse_queue_url(text)
    assert message in str(caught.value)


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20).filter(
    lambda name: name.strip() == name
)


@given(stream=names, group=names, port=st.integers(1, 65535), db=st.integers(0, 15))
def test_a_url_shown_reads_back_the_same(stream: str, group: str, port: int, db: int) -> None:
    url = QueueUrl(host="127.0.0.1", port=port, db=db, stream=stream, group=group)
    assert parse_queue_url(str(url)) == url
