"""The loop's core promise, for any input and any answers: every record gets exactly one
outcome, a delivered item is never sent again, and attempts are counted truthfully."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverator._errorhandling import parse_error_handler
from deliverator.testing import ScriptedResponse
from tests.services import ExampleService, jsonl, track
from tests.test_delivery_loop import deliver

INVALID = st.sampled_from(
    ["{not json", "[]", '{"type": "nope", "userId": "u"}', '{"type": "track", "userId": "u"}', '"text"']
)
ITEM_STATUSES = st.lists(st.sampled_from([200, 200, 201, 400, 422, 429, 500, 503]), min_size=1, max_size=4)
REQUEST_ANSWERS = st.lists(
    st.one_of(
        st.none(),
        st.sampled_from(
            [
                ScriptedResponse(status=503),
                ScriptedResponse(status=429, headers={"Retry-After": "2"}),
                ScriptedResponse(status=500, body="oops"),
                ScriptedResponse(status=401, body={"message": "no"}),
                ScriptedResponse(drop=True),
            ]
        ),
    ),
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    kinds=st.lists(st.one_of(st.just("valid"), INVALID), min_size=1, max_size=25),
    statuses=st.lists(ITEM_STATUSES, min_size=25, max_size=25),
    answers=REQUEST_ANSWERS,
    max_retries=st.integers(min_value=0, max_value=3),
    batch_size=st.integers(min_value=1, max_value=7),
)
def test_every_record_gets_exactly_one_outcome_and_nothing_delivered_is_resent(
    example_plugin: ModuleType,
    kinds: list[str],
    statuses: list[list[int]],
    answers: list[ScriptedResponse | None],
    max_retries: int,
    batch_size: int,
) -> None:
    records: list[Any] = [track(i) if kind == "valid" else kind for i, kind in enumerate(kinds)]
    script = {f"m-{i}": tuple(statuses[i]) for i, kind in enumerate(kinds) if kind == "valid"}

    def request_script(number: int) -> ScriptedResponse | None:
        return answers[number - 1] if number <= len(answers) else None

    handler = parse_error_handler({"max_retries": max_retries})
    with ExampleService(items=script, request_script=request_script) as service:
        result = deliver(example_plugin, service.url, jsonl(records), batch_size=batch_size, error_handler=handler)

    assert service.resent_after_success == 0
    assert sorted(o.index for o in result.outcomes) == list(range(len(records)))
    assert result.summary.total == len(records)
    for outcome in result.outcomes:
        message_id = f"m-{outcome.index}"
        if kinds[outcome.index] != "valid":
            assert (outcome.outcome, outcome.attempts) == ("failed", 0)
            assert service.sent[message_id] == 0
            continue
        assert service.delivered[message_id] <= 1
        if outcome.outcome == "delivered":
            assert service.delivered[message_id] == 1
        else:
            assert service.delivered[message_id] == 0
        # Every request that carried the item reached the service or was dropped: attempts are
        # the requests made, and never more than the retry budget allows.
        assert outcome.attempts <= max_retries + 1
        assert service.sent[message_id] <= outcome.attempts
    failed = [o for o in result.outcomes if o.outcome == "failed"]
    assert len(result.dead) == len(failed)
