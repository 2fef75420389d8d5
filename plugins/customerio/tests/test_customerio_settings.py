"""Settings validation through the core's config structuring, and keeping the API key secret
everywhere a user could see text: reprs, messages, outcomes, exceptions."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from deliverator import ConfigError, PayloadValidationError, Secret, TransportError
from deliverator.testing import ScriptedResponse, load_destination
from deliverator_customerio import plugin
from deliverator_customerio.settings import CustomerIOSettings


def _structure(**table: Any) -> CustomerIOSettings:
    base: dict[str, Any] = {"site_id": "site", "api_key": "key"}
    base.update(table)
    settings: CustomerIOSettings = load_destination(plugin, base).settings
    return settings


def test_defaults_are_us_region_no_endpoint_and_timestamp_conversion() -> None:
    settings = _structure()
    assert (settings.region, settings.endpoint, settings.convert_timestamps) == ("us", None, True)
    assert isinstance(settings.api_key, Secret) and settings.api_key.reveal() == "key"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"region": "xx"}, "region must be 'us' or 'eu', got 'xx'"),
        ({"region": "US"}, "region must be 'us' or 'eu', got 'US'"),
        ({"site_id": ""}, "site_id must be a non-empty string"),
        ({"site_id": "a:b"}, "site_id must not contain ':'"),
        ({"api_key": ""}, "api_key must not be empty"),
        ({"api_key": 12}, "api_key: expected a string"),
        ({"endpoint": "localhost:9000"}, "endpoint must be an http:// or https:// URL"),
        ({"endpoint": "https://user:pw@proxy.example"}, "endpoint must not hold credentials"),
        ({"endpoint": "https://proxy.example/?x=1"}, "endpoint must not have a query"),
        ({"convert_timestamps": "yes"}, "convert_timestamps: expected true or false"),
        ({"regoin": "eu"}, "unknown key 'regoin'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_field(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _structure(**table)
    assert message in str(raised.value)
    assert str(raised.value).startswith("destination.settings")


def test_missing_api_key_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"destination.settings.api_key: required key missing"):
        load_destination(plugin, {"site_id": "s"})


def test_settings_are_frozen() -> None:
    settings = _structure()
    with pytest.raises(AttributeError):
        settings.region = "eu"  # type: ignore[misc]  # the point: settings are frozen


def test_settings_repr_and_str_hide_the_api_key(api_key: str) -> None:
    settings = _structure(api_key=api_key)
    assert api_key not in repr(settings) and api_key not in str(settings)
    assert "********" in repr(settings)


def test_config_error_about_another_field_does_not_show_the_key(api_key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _structure(api_key=api_key, region="mars")
    assert api_key not in str(raised.value) and api_key not in repr(raised.value)


def test_validation_error_text_never_holds_the_key(make_destination: Any, api_key: str) -> None:
    with pytest.raises(PayloadValidationError) as raised:
        make_destination().build_payload({"type": "page", "userId": "u"})
    assert api_key not in str(raised.value)


@pytest.mark.parametrize("status", [200, 207, 400, 401, 403, 413, 429, 500])
def test_the_key_appears_in_no_outcome_text(send_batch: Any, api_key: str, status: int) -> None:
    body = {"errors": [{"batch_index": 0, "reason": "invalid", "message": "bad"}]} if status == 207 else {}
    exchange = send_batch(ScriptedResponse(status=status, body=body))
    seen = [repr(exchange.classification), exchange.classification.errormessage or ""]
    if exchange.results is not None:
        seen += [repr(r) for r in exchange.results.responses()]
        seen += [orjson.dumps(r.body).decode() for r in exchange.results.responses() if r is not None]
    assert not any(api_key in text for text in seen)
    # ... while the request itself did authenticate with it (the test could not pass vacuously).
    assert exchange.requests[0].headers["Authorization"].startswith("Basic ")


def test_transport_error_text_never_holds_the_key(make_destination: Any, http: Any, service: Any, api_key: str) -> None:
    server = service(ScriptedResponse(drop=True))
    with pytest.raises(TransportError) as raised:
        make_destination(endpoint=server.url).send_batch([{"type": "person"}], http)
    assert api_key not in str(raised.value) and api_key not in repr(raised.value)
    assert "Basic" not in str(raised.value)
