"""The v2 model of the hook contract: per-item ``ignored``, ``retry_after_s``, failure types, and
the order in which one answer is judged (user filters, then ``parse_response`` for every
answer, then ``classify_error``)."""

from __future__ import annotations

import io
import types
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import orjson
import pytest

import deliverator
from deliverator import (
    Action,
    Classification,
    DestinationSpec,
    ErrorCode,
    ErrorResponse,
    FailureType,
    HttpClient,
    HttpResponse,
    IgnoredResponse,
    IgnoreEvent,
    MultiStatusResponse,
    SuccessResponse,
    TransportError,
    hookimpl,
)
from deliverator.clock import FakeClock
from deliverator.delivery import DeliveryRun, RunOptions
from deliverator.delivery.sinks import StreamSink
from deliverator.destination import Destination, Judgement
from deliverator.errorhandling import ErrorHandlerConfig, RequestPacer, error_handler_plugin, parse_error_handler
from deliverator.outcomes import read_outcomes
from deliverator.testing import ScriptedResponse, ScriptedServer


@attrs.frozen
class Settings:
    url: str = "http://127.0.0.1:9"


PAYLOADS = [{"id": "a"}, {"id": "b"}, {"id": "c"}]


def import_like_plugin(**hooks: Any) -> types.SimpleNamespace:
    """A Mixpanel-style destination: a 400 lists the items it refused, the others were taken."""

    @hookimpl
    def destination_spec() -> DestinationSpec:
        return DestinationSpec(name="importlike", settings_class=Settings, max_batch_items=10)

    @hookimpl
    def build_payload(event: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
        if event["type"] == "alias":
            raise IgnoreEvent("alias events are not imported")
        return {"id": event["messageId"], "user": event.get("userId")}

    @hookimpl
    def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Settings, http: HttpClient) -> HttpResponse:
        return http.post(f"{settings.url}/import", body=orjson.dumps(list(payloads)))

    @hookimpl
    def parse_response(
        response: HttpResponse, payloads: Sequence[Mapping[str, Any]], settings: Settings
    ) -> MultiStatusResponse | None:
        if response.status != 400:
            return None
        body = response.json()
        failed = {record["index"]: record["message"] for record in body.get("failed_records", [])}
        statuses = MultiStatusResponse()
        for index, payload in enumerate(payloads):
            if index in failed:
                statuses.push_error(status=400, errormessage=failed[index], sent=payload)
            elif payload.get("user") is None:
                statuses.push_ignored(reason="no user: not imported", sent=payload)
            else:
                statuses.push_success(status=200, sent=payload)
        return statuses

    required = {
        "destination_spec": destination_spec,
        "build_payload": build_payload,
        "send_batch": send_batch,
        "parse_response": parse_response,
    }
    return types.SimpleNamespace(**{**required, **hooks})


def destination(**hooks: Any) -> Destination:
    return Destination.from_plugins([("importlike", import_like_plugin(**hooks))], {})


def answer(status: int, body: Any = None) -> HttpResponse:
    return HttpResponse(status=status, body=orjson.dumps(body) if body is not None else b"")


# --- the model --------------------------------------------------------------------------------


def test_v2_names_are_public() -> None:
    for name in ("IgnoredResponse", "IgnoreEvent", "FailureType"):
        assert name in deliverator.__all__
        assert getattr(deliverator, name) is not None


def test_an_ignored_response_defaults_to_status_200_and_needs_a_reason() -> None:
    assert IgnoredResponse(reason="why") == IgnoredResponse(status=200, reason="why", sent=None, body=None)
    with pytest.raises(TypeError):
        IgnoredResponse()  # type: ignore[call-arg]  # reason is required: proving it


def test_multistatus_holds_ignored_entries_beside_successes_and_errors() -> None:
    statuses = MultiStatusResponse()
    statuses.push_success(status=200)
    statuses.push_ignored(reason="not taken")
    statuses.set_ignored(3, reason="later")
    statuses.push_error(status=400, errormessage="bad")
    assert [statuses.is_ignored(i) for i in range(5)] == [False, True, False, True, False]
    assert (statuses.success_count, statuses.error_count, statuses.ignored_count) == (1, 1, 2)
    assert "ignored=2" in repr(statuses)


def test_a_mapping_with_a_reason_and_no_errormessage_is_ignored() -> None:
    statuses = MultiStatusResponse([{"reason": "dropped"}, {"status": 200}, {"status": 400, "errormessage": "x"}])
    kinds = [type(r) for r in statuses]
    assert kinds == [IgnoredResponse, SuccessResponse, ErrorResponse]
    statuses.push({"status": 202, "reason": "queued elsewhere"})
    assert statuses.is_ignored(3)


def test_an_error_response_carries_retry_after_s() -> None:
    throttled = ErrorResponse(status=429, errormessage="user throttled", retry_after_s=30.0)
    assert throttled.retry_after_s == 30.0 and throttled.retryable
    assert ErrorResponse(status=500, errormessage="x").retry_after_s is None


def test_ignore_event_keeps_its_reason() -> None:
    raised = IgnoreEvent("alias events are not imported")
    assert raised.reason == str(raised) == "alias events are not imported"


def test_failure_types_use_airbytes_names_and_a_config_fail_stops_the_run() -> None:
    assert [t.value for t in FailureType] == ["transient", "config", "system"]
    assert Classification(action=Action.FAIL, failure_type="config").stops_run
    assert not Classification(action=Action.FAIL, failure_type=FailureType.SYSTEM).stops_run
    assert not Classification(action=Action.RETRY, failure_type=FailureType.CONFIG).stops_run
    assert not Classification(action=Action.FAIL).stops_run


@pytest.mark.parametrize(
    ("status", "errortype"), [(401, ErrorCode.INVALID_AUTHENTICATION), (403, ErrorCode.FORBIDDEN)]
)
def test_core_defaults_make_401_and_403_a_config_failure(status: int, errortype: ErrorCode) -> None:
    classification = destination().classify(answer(status, {"error": "bad key"}))
    assert classification.action is Action.FAIL
    assert classification.errortype is errortype
    assert classification.failure_type is FailureType.CONFIG
    assert classification.stops_run
    assert "bad key" in (classification.errormessage or "")


# --- judging one answer ------------------------------------------------------------------------


def test_parse_response_sees_an_error_status_and_reads_it_per_item() -> None:
    body = {"code": 400, "failed_records": [{"index": 1, "message": "bad time"}]}
    judgement = destination().judge(
        [{"id": "a", "user": "u"}, {"id": "b", "user": "u"}, {"id": "c"}], answer(400, body), None
    )
    assert judgement.classification.action is Action.SUCCESS
    assert judgement.statuses is not None
    assert [type(r).__name__ for r in judgement.statuses] == ["SuccessResponse", "ErrorResponse", "IgnoredResponse"]


def test_a_whole_request_answer_is_left_to_classify_error() -> None:
    judgement = destination().judge(PAYLOADS, answer(503), None)
    assert judgement == Judgement(classification=judgement.classification, statuses=None)
    assert judgement.classification.action is Action.RETRY


def test_a_whole_request_success_delivers_every_item_with_the_requests_status() -> None:
    judgement = destination().judge(PAYLOADS, answer(202, {"ok": True}), None)
    assert judgement.classification.action is Action.SUCCESS
    assert judgement.statuses is not None
    assert [(r.status, r.sent) for r in judgement.statuses if isinstance(r, SuccessResponse)] == [
        (202, p) for p in PAYLOADS
    ]


def test_a_transport_error_is_classified_without_parse_response() -> None:
    seen: list[int] = []

    @hookimpl
    def parse_response(response: HttpResponse, payloads: Any, settings: Any) -> None:
        seen.append(response.status)

    judgement = destination(parse_response=parse_response).judge(PAYLOADS, None, TransportError("refused", "connect"))
    assert judgement.classification.action is Action.RETRY
    assert seen == []


def test_a_user_filter_decides_before_parse_response_reads_the_answer() -> None:
    target = destination()
    handler = error_handler_plugin(
        parse_error_handler({"response_filters": [{"http_codes": [400], "action": "FAIL", "error_message": "no"}]})
    )
    assert handler is not None
    target.add_plugin(handler, "deliverator.error_handler")
    judgement = target.judge(PAYLOADS, answer(400, {"failed_records": []}), None)
    assert judgement.statuses is None
    assert (judgement.classification.action, judgement.classification.errormessage) == (Action.FAIL, "no")


def test_a_success_filter_still_lets_the_destination_read_each_item() -> None:
    target = destination()
    filters = [{"http_codes": [400, 409], "action": "SUCCESS"}]
    handler = error_handler_plugin(parse_error_handler({"response_filters": filters}))
    assert handler is not None
    target.add_plugin(handler, "deliverator.error_handler")
    body = {"failed_records": [{"index": 0, "message": "bad"}]}
    read = target.judge([{"id": "a", "user": "u"}], answer(400, body), None)
    assert read.statuses is not None and read.statuses.is_error(0)
    whole = target.judge([{"id": "a", "user": "u"}], answer(409), None)
    assert whole.statuses is not None and whole.statuses.is_success(0)


@pytest.mark.parametrize("hook", ["parse_response", "classify_error"])
def test_a_plugin_exception_becomes_a_fail_naming_the_hook(hook: str) -> None:
    def broken(**kwargs: Any) -> Any:
        raise KeyError("boom")

    broken.__name__ = hook
    judgement = destination(**{hook: hookimpl(broken)}).judge(PAYLOADS, answer(503), None)
    classification = judgement.classification
    assert (classification.action, classification.status, classification.errortype) == (
        Action.FAIL,
        500,
        ErrorCode.UNKNOWN_ERROR,
    )
    assert (classification.errormessage or "").startswith(f"{hook} raised KeyError")


def test_parse_response_returning_something_else_is_a_fail_naming_it() -> None:
    @hookimpl
    def parse_response(response: Any, payloads: Any, settings: Any) -> Any:
        return [{"status": 200}]

    judgement = destination(parse_response=parse_response).judge(PAYLOADS, answer(200), None)
    assert judgement.classification.action is Action.FAIL
    assert "parse_response" in (judgement.classification.errormessage or "")


# --- through a run -----------------------------------------------------------------------------


def test_partial_success_on_a_400_and_ignored_items_through_a_real_run() -> None:
    events = [
        {"type": "track", "event": "e", "userId": "u", "messageId": "m0"},
        {"type": "track", "event": "e", "userId": "u", "messageId": "m1"},
        {"type": "track", "event": "e", "anonymousId": "anon", "messageId": "m2"},
    ]
    body = {"code": 400, "failed_records": [{"index": 1, "message": "'time' is in the future"}]}
    with ScriptedServer([ScriptedResponse(status=400, body=body)]) as server:
        plugin = import_like_plugin()
        target = Destination.from_plugins([("importlike", plugin)], {"url": server.url})
        clock = FakeClock()
        results = io.BytesIO()
        run = DeliveryRun(
            target,
            HttpClient(),
            RunOptions(batch_size=10, concurrency=1, linger_s=0.01),
            StreamSink(results, io.BytesIO()),
            ErrorHandlerConfig(),
            clock=clock,
            pacer=RequestPacer(clock),
        )
        run.run(io.BytesIO(b"\n".join(orjson.dumps(e) for e in events)))
    outcomes = sorted(read_outcomes(results.getvalue()), key=lambda o: o.index)
    assert [(o.outcome, o.status) for o in outcomes] == [("delivered", 200), ("failed", 400), ("ignored", 200)]
    assert outcomes[1].errormessage == "'time' is in the future"
    assert outcomes[2].errormessage == "no user: not imported"
    assert len(server.requests) == 1
