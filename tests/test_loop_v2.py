"""The delivery loop's v2 behaviour in-process, against real loopback servers with a virtual
clock: answers that stop the run, ignored events, per-item retry-after, the memory cap in an
outage, big integers, repeated headers, loud double outcomes, any record whatever it holds."""

from __future__ import annotations

import http.server
import io
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import example as hypothesis_example
from hypothesis import strategies as st

from deliverator import ErrorResponse, HttpClient, HttpResponse, MultiStatusResponse, hookimpl
from deliverator.delivery import DeliveryRun, RunOptions, SourceRecord, Summary
from deliverator.delivery.items import Item
from deliverator.delivery.recorder import DoubleOutcome, OutcomeRecorder
from deliverator.delivery.sinks import StreamSink
from deliverator.destination import Destination
from deliverator.encoded import dumps_exact
from deliverator.errorhandling import ErrorHandlerConfig, RequestPacer, error_handler_plugin, parse_error_handler
from deliverator.outcomes import Outcome, read_outcomes
from deliverator.testing import FakeClock, RecordedRequest, ScriptedResponse, ScriptedServer
from tests.services import ExampleService, jsonl, track
from tests.test_contract_v2 import import_like_plugin


class Ran:
    def __init__(self, summary: Summary, results: bytes, dead: bytes, clock: FakeClock) -> None:
        self.summary = summary
        self.raw = results
        self.outcomes = sorted(read_outcomes(results), key=lambda o: o.index or 0)
        self.dead = [orjson.loads(line) for line in dead.splitlines()]
        self.clock = clock


def run(
    destination: Destination,
    data: bytes,
    *,
    batch_size: int = 10,
    concurrency: int = 2,
    handler: ErrorHandlerConfig | None = None,
) -> Ran:
    if handler is not None:
        plugin = error_handler_plugin(handler)
        if plugin is not None:
            destination.add_plugin(plugin, "error_handler")
    clock = FakeClock()
    results, dead = io.BytesIO(), io.BytesIO()
    delivery = DeliveryRun(
        destination,
        HttpClient(),
        RunOptions(batch_size=batch_size, concurrency=concurrency, linger_s=0.05),
        StreamSink(results, dead),
        handler or ErrorHandlerConfig(),
        clock=clock,
        pacer=RequestPacer(clock),
    )
    summary = delivery.run(io.BytesIO(data))
    return Ran(summary, results.getvalue(), dead.getvalue(), clock)


def example(plugin: ModuleType, url: str) -> Destination:
    return Destination.from_plugins([("example", plugin)], {"endpoint": url, "token": "t0k"})


# --- answers that stop the run ------------------------------------------------------------------


def test_a_401_stops_the_run_after_at_most_concurrency_requests(example_plugin: ModuleType) -> None:
    def refused(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=401, body={"message": "bad token"})

    with ExampleService(request_script=refused) as service:
        events = jsonl([track(i) for i in range(5000)])
        ran = run(example(example_plugin, service.url), events, batch_size=50, concurrency=4)
    assert service.requests <= 4
    assert len(ran.outcomes) == 5000 and [o.index for o in ran.outcomes] == list(range(5000))
    assert {(o.outcome, o.status, o.errortype) for o in ran.outcomes} == {("failed", 401, "INVALID_AUTHENTICATION")}
    unsent = [o for o in ran.outcomes if o.attempts == 0]
    assert len(unsent) >= 5000 - 4 * 50
    expected = "the run stopped because the destination answered 401"
    assert all(o.sent is None and expected in (o.errormessage or "") for o in unsent)
    assert len(ran.dead) == 5000
    assert ran.summary.stopped_because is not None and "401" in ran.summary.stopped_because
    assert "stopped: the destination answered 401" in ran.summary.line()


def test_a_response_filter_can_keep_a_401_from_stopping_the_run(example_plugin: ModuleType) -> None:
    def refused(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=401, body={"message": "bad token"})

    handler = parse_error_handler({"response_filters": [{"http_codes": [401], "action": "FAIL"}]})
    with ExampleService(request_script=refused) as service:
        ran = run(example(example_plugin, service.url), jsonl([track(i) for i in range(100)]), handler=handler)
    assert service.requests == 10  # every batch was tried
    assert ran.summary.stopped_because is None
    assert all(o.attempts == 1 for o in ran.outcomes)


# --- ignored events and per-item waits ----------------------------------------------------------


def test_ignore_event_from_build_payload_is_an_ignored_outcome_never_sent() -> None:
    with ScriptedServer([ScriptedResponse(status=200)]) as server:
        target = Destination.from_plugins([("importlike", import_like_plugin())], {"url": server.url})
        events = [
            {"type": "alias", "userId": "u", "previousId": "p", "messageId": "m0"},
            {"type": "track", "event": "e", "userId": "u", "messageId": "m1"},
        ]
        ran = run(target, jsonl(events))
    assert [(o.outcome, o.status, o.attempts, o.sent) for o in ran.outcomes] == [
        ("ignored", 200, 0, None),
        ("delivered", 200, 1, {"id": "m1", "user": "u"}),
    ]
    assert ran.outcomes[0].errormessage == "alias events are not imported"
    assert ran.dead == [] and len(server.requests) == 1


def test_an_items_retry_after_is_a_minimum_wait_and_counts_as_a_retry() -> None:
    calls = Counter[str]()

    @hookimpl(tryfirst=True)
    def parse_response(
        response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: object
    ) -> MultiStatusResponse | None:
        statuses = MultiStatusResponse()
        for payload in payloads:
            calls[payload["id"]] += 1
            if payload["id"] == "m1" and calls["m1"] == 1:
                statuses.push(ErrorResponse(status=429, errormessage="user throttled", retry_after_s=30.0))
            else:
                statuses.push_success(status=200, sent=payload)
        return statuses

    with ScriptedServer(lambda request: ScriptedResponse(status=200)) as server:
        target = Destination.from_plugins(
            [("importlike", import_like_plugin(parse_response=parse_response))], {"url": server.url}
        )
        events = [{"type": "track", "event": "e", "userId": "u", "messageId": f"m{i}"} for i in range(2)]
        ran = run(target, jsonl(events))
    assert [(o.outcome, o.attempts) for o in ran.outcomes] == [("delivered", 1), ("delivered", 2)]
    assert ran.clock.monotonic() >= 30  # the default first wait is 1 s: the item's 30 s won
    assert ran.summary.retried_items == 1


# --- bounded in an outage ----------------------------------------------------------------------


def test_events_waiting_for_a_retry_stop_the_reader_in_an_outage(example_plugin: ModuleType) -> None:
    lock = threading.Lock()
    seen: Counter[str] = Counter()
    distinct_before_first_retry: list[int] = []

    def down(request: RecordedRequest) -> ScriptedResponse:
        with lock:
            for item in orjson.loads(request.body)["items"]:
                seen[item["id"]] += 1
                if seen[item["id"]] == 2 and not distinct_before_first_retry:
                    distinct_before_first_retry.append(len(seen))
        return ScriptedResponse(status=503)

    handler = parse_error_handler(
        {"max_retries": 1, "backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 30}]}
    )
    with ScriptedServer(down) as server:
        ran = run(example(example_plugin, server.url), jsonl([track(i) for i in range(2000)]), handler=handler)
    cap = 2 * 3 + 2  # Channels.max_outstanding for concurrency 2, in batches of 10
    assert distinct_before_first_retry and distinct_before_first_retry[0] <= cap * 10
    assert len(ran.outcomes) == 2000 and {o.status for o in ran.outcomes} == {503}
    assert set(seen.values()) == {2}


# --- exact data ----------------------------------------------------------------------------------


def test_integers_beyond_64_bits_are_sent_with_their_exact_digits(example_plugin: ModuleType) -> None:
    huge = 2**80 + 1
    line = b'{"type":"track","userId":"u","event":"e","messageId":"m-0","properties":{"n":%d,"m":-%d}}' % (
        huge,
        huge,
    )
    bodies: list[bytes] = []

    def keep(request: RecordedRequest) -> ScriptedResponse:
        bodies.append(request.body)
        return ScriptedResponse(status=200, body={"results": [{"status": 200}]})

    with ScriptedServer(keep) as server:
        ran = run(example(example_plugin, server.url), line + b"\n")
    assert b'"n":%d,"m":-%d' % (huge, huge) in bodies[0]
    assert ran.outcomes[0].outcome == "delivered"
    # and the outcome record says what was sent, digits included
    assert b'"data":{"n":%d,"m":-%d}' % (huge, huge) in ran.raw


def test_repeated_response_headers_are_all_kept() -> None:
    class Twice(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the stdlib's handler naming
            self.send_response(200)
            self.send_header("X-Trace", "first")
            self.send_header("X-Trace", "second")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet test server
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Twice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = HttpClient().get(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert response.headers["x-trace"] == "first, second"


# --- loud, not silent -------------------------------------------------------------------------


def test_recording_a_second_outcome_for_one_event_is_an_error() -> None:
    recorder = OutcomeRecorder(StreamSink(io.BytesIO(), None))
    item = Item(SourceRecord(b"{}", 0, 0), None, b"{}", None, b"")
    recorder.failed(item, 400, "PAYLOAD_VALIDATION_FAILED", "bad")
    with pytest.raises(DoubleOutcome):
        recorder.delivered(item, 200, None, None)


# --- any record, whatever it holds --------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
FIELDS = ("type", "userId", "anonymousId", "event", "name", "messageId", "properties", "traits", "groupId")
RECORDS = st.fixed_dictionaries(
    {}, optional={field: JSON | st.sampled_from(["track", "identify", "alias", "u1", "m-1"]) for field in FIELDS}
)


@pytest.fixture(scope="module")
def always_ok() -> Iterator[str]:
    def ok(request: RecordedRequest) -> ScriptedResponse:
        items = orjson.loads(request.body)["items"]
        return ScriptedResponse(status=200, body={"results": [{"status": 200}] * len(items)})

    with ScriptedServer(ok) as server:
        yield server.url


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS, min_size=1, max_size=8))
@hypothesis_example(records=[{"type": []}, {"type": "track", "userId": {}, "event": [1]}, {"messageId": {"a": None}}])
def test_every_record_gets_exactly_one_outcome_whatever_its_fields_hold(
    records: list[dict[str, Any]], always_ok: str, example_plugin: ModuleType
) -> None:
    ran = run(example(example_plugin, always_ok), b"".join(dumps_exact(r) + b"\n" for r in records))
    assert [o.index for o in ran.outcomes] == list(range(len(records)))
    assert ran.summary.total == len(records)
    failed: list[Outcome] = [o for o in ran.outcomes if o.outcome == "failed"]
    assert sorted(d["index"] for d in ran.dead) == [o.index for o in failed]
