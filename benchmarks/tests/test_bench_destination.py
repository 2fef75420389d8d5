"""The benchsink destination turns the sink's per-item answers into MultiStatus entries, and
refuses events it could not count."""

from __future__ import annotations

import pytest

from deliverator import ErrorResponse, HttpClient, HttpResponse, PayloadValidationError
from deliverator_benchsink import plugin

from sink import ItemsRule, Sink

SETTINGS = plugin.BenchSinkSettings(endpoint="http://127.0.0.1:1")
PAYLOADS = [{"id": "a"}, {"id": "b"}, {"id": "c"}]


def test_results_map_to_one_entry_per_item_in_order() -> None:
    body = b'{"results":[{"status":200},{"status":503,"message":"later"},{"status":200}]}'
    result = plugin.parse_response(response=HttpResponse(status=200, body=body), payloads=PAYLOADS,
                                   settings=SETTINGS)
    assert [result.is_success(i) for i in range(3)] == [True, False, True]
    refused = result.get(1)
    assert isinstance(refused, ErrorResponse)
    assert (refused.status, refused.errormessage, refused.retryable) == (503, "later", True)
    assert refused.sent == {"id": "b"}


@pytest.mark.parametrize("body", [b"{}", b"not json", b'{"results":[{"status":200}]}',
                                  b'{"results":[{"x":1},{"x":2},{"x":3}]}'])
def test_an_answer_that_does_not_fit_the_batch_retries_every_item_as_502(body: bytes) -> None:
    result = plugin.parse_response(response=HttpResponse(status=200, body=body), payloads=PAYLOADS,
                                   settings=SETTINGS)
    assert len(result) == 3
    for entry in result:
        assert isinstance(entry, ErrorResponse)
        assert entry.status == 502 and entry.retryable


def test_an_event_without_message_id_is_refused_naming_the_field() -> None:
    with pytest.raises(PayloadValidationError, match="messageId"):
        plugin.build_payload(event={"type": "track", "userId": "u"}, settings=SETTINGS)


def test_send_batch_posts_to_the_sink_and_gets_its_per_item_answer() -> None:
    rule = ItemsRule(reject_item_percent=0, fail_every_nth_request=0)
    with Sink(mode="items", rule=rule) as sink:
        settings = plugin.BenchSinkSettings(endpoint=sink.url + "/")
        payloads = [plugin.build_payload(event={"messageId": f"m{n}", "type": "track"}, settings=settings)
                    for n in range(3)]
        response = plugin.send_batch(payloads=payloads, settings=settings, http=HttpClient())
    result = plugin.parse_response(response=response, payloads=payloads, settings=settings)
    assert result.success_count == 3
    assert sink.stats is not None and sink.stats.routes == {"bench_batch": 1}
