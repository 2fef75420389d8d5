"""The delivery loop end to end in-process: real loopback server, the docs' example plugin,
a virtual clock for every wait."""

from __future__ import annotations

import io
from types import ModuleType

import orjson
import pytest

from deliverator.delivery import DeliveryRun, RunOptions, Summary
from deliverator.delivery.sinks import StreamSink
from deliverator.destination import Destination
from deliverator.errorhandling import ErrorHandlerConfig, RequestPacer, error_handler_plugin, parse_error_handler
from deliverator.http import HttpClient
from deliverator.outcomes import Outcome, read_outcomes
from deliverator.testing import FakeClock, ScriptedResponse
from tests.services import ExampleService, jsonl, track


class Result:
    def __init__(
        self, summary: Summary, outcomes: list[Outcome], dead: list[dict[str, object]], clock: FakeClock
    ) -> None:
        self.summary = summary
        self.outcomes = outcomes
        self.by_index = {o.index: o for o in outcomes}
        self.dead = dead
        self.clock = clock


def deliver(
    plugin: ModuleType,
    url: str,
    data: bytes,
    *,
    batch_size: int = 10,
    concurrency: int = 2,
    error_handler: ErrorHandlerConfig | None = None,
) -> Result:
    destination = Destination.from_plugins([("example", plugin)], {"endpoint": url, "token": "s3cret-token"})
    handler = error_handler_plugin(error_handler) if error_handler is not None else None
    if handler is not None:
        destination.add_plugin(handler, "error_handler")
    clock = FakeClock()
    results, dead = io.BytesIO(), io.BytesIO()
    run = DeliveryRun(
        destination,
        HttpClient(),
        RunOptions(batch_size=batch_size, concurrency=concurrency, linger_s=0.05),
        StreamSink(results, dead),
        error_handler or ErrorHandlerConfig(),
        clock=clock,
        pacer=RequestPacer(clock),
    )
    summary = run.run(io.BytesIO(data))
    dead_records = sorted((orjson.loads(line) for line in dead.getvalue().splitlines()), key=lambda d: d["index"])
    return Result(summary, read_outcomes(results.getvalue()), dead_records, clock)


def test_every_valid_event_is_delivered_once(example_plugin: ModuleType) -> None:
    with ExampleService() as service:
        result = deliver(example_plugin, service.url, jsonl([track(i) for i in range(35)]))
    assert result.summary.delivered == 35
    assert sorted(o.index for o in result.outcomes) == list(range(35))
    assert all(o.outcome == "delivered" and o.attempts == 1 for o in result.outcomes)
    assert set(service.sent.values()) == {1}
    assert service.requests == 4  # batches of 10, 10, 10, 5


def test_invalid_records_fail_with_a_message_naming_the_problem_and_are_never_sent(example_plugin: ModuleType) -> None:
    records = [
        "not json",
        [1, 2],
        {"type": "shout", "userId": "u"},
        {"type": "track", "event": "x", "messageId": "a"},
        {"type": "track", "userId": "u", "messageId": "b"},
        {"type": "group", "userId": "u", "messageId": "c"},
        {"type": "alias", "userId": "u", "messageId": "d"},
        {"type": "identify", "userId": "u"},  # the example plugin requires messageId
        track(9),
    ]
    with ExampleService() as service:
        result = deliver(example_plugin, service.url, jsonl(records))
    messages = {o.index: o.errormessage for o in result.outcomes if o.outcome == "failed"}
    assert "not valid JSON" in (messages[0] or "")
    assert "not a JSON object" in (messages[1] or "")
    assert "unknown type 'shout'" in (messages[2] or "")
    assert "'userId' or 'anonymousId'" in (messages[3] or "")
    assert "'event'" in (messages[4] or "")
    assert "'groupId'" in (messages[5] or "")
    assert "'previousId'" in (messages[6] or "")
    assert "messageId" in (messages[7] or "")
    for index in range(8):
        outcome = result.by_index[index]
        assert (outcome.status, outcome.errortype, outcome.attempts, outcome.sent) == (
            400,
            "PAYLOAD_VALIDATION_FAILED",
            0,
            None,
        )
    assert result.by_index[8].outcome == "delivered"
    assert list(service.sent) == ["m-9"]
    assert len(result.dead) == 8
    assert result.dead[0]["event"] == "not json"


def test_only_the_items_that_failed_retryably_are_sent_again(example_plugin: ModuleType) -> None:
    script = {"m-1": (503, 200), "m-2": (400,), "m-3": (429, 429, 200)}
    with ExampleService(items=script) as service:
        result = deliver(example_plugin, service.url, jsonl([track(i) for i in range(5)]))
    assert service.sent == {"m-0": 1, "m-1": 2, "m-2": 1, "m-3": 3, "m-4": 1}
    assert result.by_index[1].outcome == "delivered" and result.by_index[1].attempts == 2
    assert result.by_index[2].outcome == "failed" and result.by_index[2].errortype == "BAD_REQUEST"
    assert result.by_index[3].attempts == 3
    assert result.clock.sleeps == []  # waiting is the coordinator's, never a sleep


def test_retries_stop_at_max_retries_with_the_last_error(example_plugin: ModuleType) -> None:
    handler = parse_error_handler({"max_retries": 3})
    with ExampleService(items={"m-0": (500,)}) as service:
        result = deliver(example_plugin, service.url, jsonl([track(0)]), error_handler=handler)
    outcome = result.by_index[0]
    assert service.sent["m-0"] == 4
    assert (outcome.outcome, outcome.status, outcome.errortype, outcome.attempts) == (
        "failed",
        500,
        "INTERNAL_SERVER_ERROR",
        4,
    )
    assert "gave up after 4 attempts" in (outcome.errormessage or "")


def test_default_waits_are_1_2_4_8_16_seconds(example_plugin: ModuleType) -> None:
    with ExampleService(items={"m-0": (500,)}) as service:
        result = deliver(example_plugin, service.url, jsonl([track(0)]))
    assert service.sent["m-0"] == 6
    # The virtual clock moved by exactly the waits (plus nothing else: no real time passes).
    assert result.clock.monotonic() == pytest.approx(1 + 2 + 4 + 8 + 16, abs=0.2)


def test_whole_request_failure_fails_every_item_with_its_status_and_message(example_plugin: ModuleType) -> None:
    def script(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=403, body={"message": "token revoked"})

    with ExampleService(request_script=script) as service:
        result = deliver(example_plugin, service.url, jsonl([track(i) for i in range(3)]))
    assert service.requests == 1
    for outcome in result.outcomes:
        assert (outcome.outcome, outcome.status, outcome.errortype) == ("failed", 403, "FORBIDDEN")
        assert "token revoked" in (outcome.errormessage or "")
        assert "s3cret-token" not in orjson.dumps(outcome.errormessage).decode()


def test_whole_request_retry_then_success(example_plugin: ModuleType) -> None:
    def script(number: int) -> ScriptedResponse | None:
        return ScriptedResponse(status=503, headers={"Retry-After": "7"}) if number == 1 else None

    with ExampleService(request_script=script) as service:
        result = deliver(example_plugin, service.url, jsonl([track(i) for i in range(3)]))
    assert service.requests == 2
    assert all(o.outcome == "delivered" and o.attempts == 2 for o in result.outcomes)
    assert result.clock.monotonic() >= 7  # Retry-After is a minimum


def test_413_splits_the_batch_until_the_culprit_fails_alone(example_plugin: ModuleType) -> None:
    def script(request_number: int) -> ScriptedResponse | None:
        return None

    class TooBig(ExampleService):
        def _answer(self, request):  # type: ignore[no-untyped-def]  # test double of the service
            items = orjson.loads(request.body)["items"]
            if any(item["id"] == "m-5" for item in items):
                with self._lock:
                    self.requests += 1
                return ScriptedResponse(status=413, body={"message": "too large"})
            return super()._answer(request)

    with TooBig() as service:
        result = deliver(example_plugin, service.url, jsonl([track(i) for i in range(8)]), batch_size=8)
    assert result.by_index[5].outcome == "failed"
    assert (result.by_index[5].status, result.by_index[5].errortype) == (413, "PAYLOAD_TOO_LARGE")
    assert all(result.by_index[i].outcome == "delivered" for i in range(8) if i != 5)
    assert all(count == 1 for count in service.delivered.values())


def test_ignore_filter_records_items_as_ignored(example_plugin: ModuleType) -> None:
    handler = parse_error_handler(
        {"response_filters": [{"http_codes": [404], "action": "IGNORE", "error_message": "no such list"}]}
    )

    def script(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=404, body={"message": "gone"})

    destination_result = None
    with ExampleService(request_script=script) as service:
        destination_result = deliver(example_plugin, service.url, jsonl([track(0), track(1)]), error_handler=handler)
    assert [o.outcome for o in destination_result.outcomes] == ["ignored", "ignored"]
    assert destination_result.summary.ignored == 2
    assert destination_result.dead == []


def test_dead_letter_file_is_valid_input_and_redelivers_the_original_events(example_plugin: ModuleType) -> None:
    with ExampleService(items={"m-1": (400,)}) as service:
        first = deliver(example_plugin, service.url, jsonl([track(0), track(1), "broken"]))
    dead = jsonl(first.dead)
    assert [d["index"] for d in first.dead] == [1, 2]
    with ExampleService() as service:
        second = deliver(example_plugin, service.url, dead)
    assert second.by_index[0].outcome == "delivered" and second.by_index[0].message_id == "m-1"
    assert second.by_index[1].outcome == "failed" and "not valid JSON" in (second.by_index[1].errormessage or "")
    assert list(service.sent) == ["m-1"]
    # A dead letter of a dead letter carries the original line again, not a wrapper.
    assert second.dead[0]["event"] == "broken"


def test_blank_lines_are_skipped_and_do_not_count_as_records(example_plugin: ModuleType) -> None:
    with ExampleService() as service:
        result = deliver(example_plugin, service.url, b"\n" + jsonl([track(0)]) + b"\n   \n" + jsonl([track(1)]))
    assert sorted(result.by_index) == [0, 1]


def test_oversize_item_fails_as_payload_too_large_without_being_sent(example_plugin: ModuleType) -> None:
    with ExampleService() as service:
        result = deliver(example_plugin, service.url, jsonl([track(0, properties={"blob": "x" * 20_000}), track(1)]))
    assert (result.by_index[0].status, result.by_index[0].errortype) == (413, "PAYLOAD_TOO_LARGE")
    assert list(service.sent) == ["m-1"]


def test_connection_errors_are_retried_and_counted(example_plugin: ModuleType) -> None:
    def script(number: int) -> ScriptedResponse | None:
        return ScriptedResponse(drop=True) if number <= 2 else None

    with ExampleService(request_script=script) as service:
        result = deliver(example_plugin, service.url, jsonl([track(0)]))
    assert result.by_index[0].outcome == "delivered"
    assert result.by_index[0].attempts == 3


def test_alternating_500_and_429_share_one_attempt_counter(example_plugin: ModuleType) -> None:
    def script(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=500) if number % 2 else ScriptedResponse(status=429)

    handler = parse_error_handler({"max_retries": 3})
    with ExampleService(request_script=script) as service:
        result = deliver(example_plugin, service.url, jsonl([track(0)]), error_handler=handler)
    assert service.requests == 4
    outcome = result.by_index[0]
    assert (outcome.attempts, outcome.status) == (4, 429)
    assert result.summary.rate_limited == 2


def test_rate_limited_answers_slow_every_sender_of_the_run(example_plugin: ModuleType) -> None:
    def script(number: int) -> ScriptedResponse | None:
        return ScriptedResponse(status=429) if number <= 2 else None

    clock = FakeClock()
    pacer = RequestPacer(clock)
    with ExampleService(request_script=script) as service:
        destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": service.url, "token": "t"})
        run = DeliveryRun(
            destination,
            HttpClient(),
            RunOptions(batch_size=2, concurrency=2, linger_s=0.05),
            StreamSink(io.BytesIO(), None),
            ErrorHandlerConfig(),
            clock=clock,
            pacer=pacer,
        )
        summary = run.run(io.BytesIO(jsonl([track(i) for i in range(10)])))
    assert summary.delivered == 10
    assert summary.rate_limited == 2
    assert pacer.rate_limited_count == 2
    assert pacer.slowdown_count >= 1


def test_an_input_that_breaks_mid_way_ends_the_run_cleanly_and_says_why(example_plugin: ModuleType) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            if not data:
                raise OSError("disk went away")
            return data

    with ExampleService() as service:
        destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": service.url, "token": "t"})
        clock = FakeClock()
        run = DeliveryRun(
            destination,
            HttpClient(),
            RunOptions(batch_size=10, concurrency=1, linger_s=0.05),
            StreamSink(io.BytesIO(), None),
            clock=clock,
            pacer=RequestPacer(clock),
        )
        summary = run.run(Broken(jsonl([track(0), track(1)])))
    assert summary.delivered == 2
    assert summary.input_error is not None and "disk went away" in summary.input_error
    assert "input not read to the end" in summary.line()
