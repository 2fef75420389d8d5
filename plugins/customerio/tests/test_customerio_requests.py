"""What the plugin puts on the wire: one POST per batch, to the right URL, with Basic auth,
JSON content type, our User-Agent and the items exactly as built."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

import deliverator
import deliverator_customerio
from deliverator import HttpClient
from deliverator.testing import ScriptedResponse
from deliverator_customerio import plugin
from deliverator_customerio.settings import CustomerIOSettings
from deliverator_customerio.trackapi import encode_batch


def test_batch_is_one_post_to_api_v2_batch_with_the_items(send_batch: Any) -> None:
    exchange = send_batch(ScriptedResponse(status=200, body={}))
    (request,) = exchange.requests
    assert (request.method, request.path) == ("POST", "/api/v2/batch")
    assert request.json() == {"batch": exchange.payloads}


def test_batch_request_carries_basic_auth_json_and_user_agent(send_batch: Any, site_id: str, api_key: str) -> None:
    (request,) = send_batch(ScriptedResponse(status=200, body={})).requests
    expected = base64.b64encode(f"{site_id}:{api_key}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == (
        f"deliverator/{deliverator.__version__} deliverator-customerio/{deliverator_customerio.__version__}"
    )


def test_send_batch_never_retries_by_itself(send_batch: Any) -> None:
    exchange = send_batch([ScriptedResponse(status=503), ScriptedResponse(status=200, body={})])
    assert len(exchange.requests) == 1


def test_send_batch_returns_the_http_response(http: HttpClient, service: Any, site_id: str, api_key: str) -> None:
    server = service(ScriptedResponse(status=207, body={"errors": []}))
    settings = CustomerIOSettings(site_id=site_id, api_key=deliverator.Secret(api_key), endpoint=server.url)
    response = plugin.send_batch(payloads=[{"type": "person"}], settings=settings, http=http)
    assert response.status == 207 and response.json() == {"errors": []}


@pytest.mark.parametrize(
    ("region", "host"), [("us", "https://track.customer.io"), ("eu", "https://track-eu.customer.io")]
)
def test_region_chooses_the_track_host(region: str, host: str) -> None:
    settings = CustomerIOSettings(site_id="s", api_key=deliverator.Secret("k"), region=region)
    assert settings.base_url == host


def test_endpoint_replaces_the_region_host_without_a_trailing_slash() -> None:
    settings = CustomerIOSettings(site_id="s", api_key=deliverator.Secret("k"), endpoint="http://127.0.0.1:9000/")
    assert settings.base_url == "http://127.0.0.1:9000"


def test_encoded_batch_is_exactly_the_size_the_spec_tells_the_batcher() -> None:
    items: list[dict[str, Any]] = [{"type": "person", "n": n, "text": "é" * n} for n in range(5)]
    body = encode_batch(items)
    counted = plugin.SPEC.batch_overhead_bytes + sum(len(orjson.dumps(i)) for i in items) + len(items) - 1
    assert len(body) == counted
    assert orjson.loads(body) == {"batch": items}


def test_empty_batch_encodes_as_the_bare_envelope() -> None:
    assert encode_batch([]) == b'{"batch":[]}'
    assert plugin.SPEC.batch_overhead_bytes == len(b'{"batch":[]}')


def test_items_with_integers_beyond_64_bits_still_encode() -> None:
    body = encode_batch([{"attributes": {"big": 2**70}}])
    assert orjson.loads(body.replace(str(2**70).encode(), b"1")) == {"batch": [{"attributes": {"big": 1}}]}
    assert str(2**70).encode() in body


def test_spec_declares_customerio_limits() -> None:
    spec = plugin.destination_spec()
    assert spec.name == "customerio"
    assert spec.settings_class is CustomerIOSettings
    assert (spec.max_batch_items, spec.default_batch_items) == (1000, 100)
    assert (spec.max_batch_bytes, spec.max_item_bytes) == (499_999, 32_000)


def test_plugin_module_registers_the_command_hooks(make_destination: Any) -> None:
    assert {"demo_environment", "register_commands"} <= set(plugin.__all__)
    hooks = make_destination().plugin_manager.hook
    for hook in (hooks.demo_environment, hooks.register_commands):
        assert plugin in [impl.plugin for impl in hook.get_hookimpls()]


def test_entry_point_names_the_plugin_module() -> None:
    from importlib.metadata import entry_points

    (point,) = [p for p in entry_points(group="deliverator.destinations") if p.name == "customerio"]
    assert point.load() is plugin
