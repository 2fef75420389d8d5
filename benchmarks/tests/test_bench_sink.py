"""The sink speaks enough HTTP/1.1 for every runner, and counts what it saw truthfully."""

from __future__ import annotations

import socket
from pathlib import Path

import orjson
import pytest
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from sink import ItemsRule, Shape, Sink, SinkStats, merge_stats


def _raw_exchange(port: int, payload: bytes, expect_responses: int) -> bytes:
    """Send raw bytes on one connection and read until ``expect_responses`` answers came."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(payload)
        received = b""
        while received.count(b"HTTP/1.1 ") < expect_responses or not received.endswith((b"}", b"{}")):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_ok_mode_answers_200_empty_object_and_counts_requests_and_bytes() -> None:
    with Sink() as sink:
        pool = urllib3.PoolManager()
        for body in (b'{"batch":[]}', b"x" * 100_000):
            response = pool.request("POST", f"{sink.url}/api/v2/batch", body=body)
            assert (response.status, response.data) == (200, b"{}")
    stats = sink.stats
    assert stats is not None
    assert stats.requests == 2
    assert stats.body_bytes == len(b'{"batch":[]}') + 100_000
    assert stats.routes == {"v2_batch": 2}


def test_keep_alive_connection_serves_pipelined_requests_in_order() -> None:
    request = b"POST /api/v1/customers/u1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    with Sink() as sink:
        received = _raw_exchange(sink.port, request * 3, expect_responses=3)
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert sink.stats is not None and sink.stats.routes == {"v1_track": 3}


def test_body_split_across_segments_is_read_by_content_length() -> None:
    head = b"POST /api/v2/batch HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
    with Sink() as sink, socket.create_connection(("127.0.0.1", sink.port), timeout=5) as conn:
        conn.sendall(head + b"12345")
        conn.sendall(b"67890")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200 OK")
    assert sink.stats is not None and sink.stats.body_bytes == 10


def test_chunked_body_is_refused_with_400_naming_the_problem() -> None:
    request = b"POST /api/v2/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    with Sink() as sink:
        received = _raw_exchange(sink.port, request, expect_responses=1)
    assert received.startswith(b"HTTP/1.1 400")
    assert b"Content-Length" in received.split(b"\r\n\r\n", 1)[1]


def test_workers_share_one_port_and_their_counts_are_merged() -> None:
    with Sink(workers=2) as sink:
        for _ in range(20):  # a new connection each time: the kernel spreads them
            pool = urllib3.PoolManager()
            assert pool.request("POST", f"{sink.url}/api/v2/batch", body=b"{}").status == 200
            pool.clear()
    assert sink.stats is not None
    assert sink.stats.workers == 2
    assert sink.stats.requests == 20


def test_tls_sink_is_trusted_with_the_throwaway_ca(tmp_path: Path) -> None:
    from certs import make_tls_files

    tls = make_tls_files(tmp_path)
    with Sink(tls=tls) as sink:
        assert sink.url.startswith("https://127.0.0.1:")
        response = urllib3.PoolManager(ca_certs=str(tls.ca_path)).request("POST", sink.url, body=b"{}")
        assert response.status == 200


def _post_batch(pool: urllib3.PoolManager, url: str, ids: list[str]) -> urllib3.BaseHTTPResponse:
    body = orjson.dumps({"batch": [{"id": item_id} for item_id in ids]})
    return pool.request("POST", f"{url}/bench/batch", body=body)


def test_items_mode_answers_one_result_per_item_by_the_rule() -> None:
    rule = ItemsRule(reject_item_percent=10, fail_every_nth_request=0)
    ids = [f"m-{n}" for n in range(200)]
    with Sink(mode="items", rule=rule) as sink:
        response = _post_batch(urllib3.PoolManager(), sink.url, ids)
    results = orjson.loads(response.data)["results"]
    expected = [503 if rule.rejects(item_id, 1) else 200 for item_id in ids]
    assert [result["status"] for result in results] == expected
    assert sink.stats is not None and sink.stats.items_refused == expected.count(503)


def test_items_mode_fails_every_nth_request_whole_and_counts_its_items() -> None:
    rule = ItemsRule(reject_item_percent=0, fail_every_nth_request=3)
    with Sink(mode="items", rule=rule) as sink:
        pool = urllib3.PoolManager()
        statuses = [_post_batch(pool, sink.url, [f"r{k}-a", f"r{k}-b"]).status for k in range(6)]
    assert statuses == [200, 200, 503, 200, 200, 503]
    assert sink.stats is not None and sink.stats.items_in_failed_requests == 4


def test_items_mode_counts_a_resent_item_once_per_extra_arrival() -> None:
    rule = ItemsRule(reject_item_percent=0, fail_every_nth_request=0)
    with Sink(mode="items", rule=rule) as sink:
        pool = urllib3.PoolManager()
        _post_batch(pool, sink.url, ["a", "b"])
        _post_batch(pool, sink.url, ["a"])
        _post_batch(pool, sink.url, ["a", "c"])
    stats = sink.stats
    assert stats is not None
    assert (stats.item_arrivals, stats.distinct_items, stats.resent_items) == (5, 3, 2)


def test_items_mode_answers_400_to_a_body_without_a_batch_of_ids() -> None:
    with Sink(mode="items") as sink:
        response = urllib3.PoolManager().request("POST", f"{sink.url}/bench/batch", body=b'{"x":1}')
    assert response.status == 400
    assert b"batch" in response.data


def test_items_mode_refuses_more_than_one_worker() -> None:
    with pytest.raises(ValueError, match="exactly one worker"):
        Sink(mode="items", workers=2)


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=50))
def test_item_rule_is_a_pure_function_of_id_and_arrival(item_id: str, arrival: int) -> None:
    rule = ItemsRule()
    assert rule.rejects(item_id, arrival) == ItemsRule().rejects(item_id, arrival)


def test_item_rule_refuses_about_the_configured_share() -> None:
    rule = ItemsRule(reject_item_percent=10)
    refused = sum(rule.rejects(f"bench-{n:010d}", 1) for n in range(20_000))
    assert 0.09 < refused / 20_000 < 0.11


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=40))
def test_every_nth_request_fails_exactly_one_in_n(n: int, rounds: int) -> None:
    rule = ItemsRule(fail_every_nth_request=n)
    assert sum(rule.fails_request(k) for k in range(1, n * rounds + 1)) == rounds


def test_merged_stats_add_counts_and_keep_the_longest_serving_time() -> None:
    def report(requests: int, serving: float, arrivals: dict[str, int]) -> dict[str, object]:
        return {"requests": requests, "body_bytes": 10, "cpu_s": 0.5, "serving_s": serving,
                "routes": {"v2_batch": requests}, "statuses": {"200": requests},
                "arrivals": arrivals, "items_refused": 1, "items_in_failed_requests": 2}

    merged = merge_stats([report(3, 1.0, {"a": 2}), report(4, 2.0, {"a": 1, "b": 1})])
    assert merged == SinkStats(
        requests=7, body_bytes=20, cpu_s=1.0, serving_s=2.0, routes={"v2_batch": 7},
        statuses={"200": 7}, item_arrivals=4, distinct_items=2, items_refused=2,
        items_in_failed_requests=4, workers=2,
    )


def test_limited_mode_answers_429_with_retry_after_once_the_burst_is_spent() -> None:
    # One token per 1,000 s: the burst of 3 is all there is while this test runs.
    with Sink(mode="limited", shape=Shape(rate=0.001, burst=3, latency_s=0.001)) as sink:
        pool = urllib3.PoolManager(retries=False)
        answers = [pool.request("POST", f"{sink.url}/api/v2/batch", body=b"{}") for _ in range(5)]
    assert [answer.status for answer in answers] == [200, 200, 200, 429, 429]
    assert answers[3].headers["Retry-After"] == "1"
    assert sink.stats is not None and sink.stats.statuses == {"200": 3, "429": 2}


def test_knee_mode_answers_every_request_and_counts_it() -> None:
    with Sink(mode="knee", shape=Shape(workers=2, service_s=0.001)) as sink:
        pool = urllib3.PoolManager(retries=False)
        answers = [pool.request("POST", f"{sink.url}/api/v2/batch", body=b"{}") for _ in range(4)]
    assert [(answer.status, answer.data) for answer in answers] == [(200, b"{}")] * 4
    assert sink.stats is not None and sink.stats.requests == 4


def test_shaped_modes_are_one_servers_behaviour() -> None:
    with pytest.raises(ValueError, match="exactly one worker"):
        Sink(mode="limited", workers=2)
