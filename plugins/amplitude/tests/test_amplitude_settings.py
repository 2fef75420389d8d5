"""Settings validation through the core's config structuring; the API key stays secret."""

from __future__ import annotations

from typing import Any

import pytest

from deliverator import ConfigError, Secret
from deliverator.testing import load_destination
from deliverator_amplitude import plugin
from deliverator_amplitude.settings import AmplitudeSettings


def _structure(**table: Any) -> AmplitudeSettings:
    base: dict[str, Any] = {"api_key": "0123456789abcdef0123456789abcdef"}
    base.update(table)
    settings = load_destination(plugin, base).settings
    assert isinstance(settings, AmplitudeSettings)
    return settings


def test_defaults_are_the_us_host_and_min_id_length_5() -> None:
    settings = _structure()
    assert (settings.region, settings.endpoint, settings.min_id_length) == ("us", None, 5)
    assert settings.base_url == "https://api2.amplitude.com"
    assert isinstance(settings.api_key, Secret)


def test_the_eu_region_and_an_endpoint_choose_the_base_url() -> None:
    assert _structure(region="eu").base_url == "https://api.eu.amplitude.com"
    assert _structure(region="eu", endpoint="http://127.0.0.1:9001/").base_url == "http://127.0.0.1:9001"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"region": "in"}, "region: must be 'us' or 'eu', got 'in'"),
        ({"api_key": ""}, "api_key: must not be empty"),
        ({"api_key": "k" * 201}, "api_key: must be at most 200 printable ASCII characters"),
        ({"api_key": 'ab"cd'}, "without quotes or backslashes"),
        ({"min_id_length": 0}, "min_id_length: must be a whole number from 1 to 1024, got 0"),
        ({"min_id_length": 2000}, "min_id_length: must be a whole number from 1 to 1024"),
        ({"endpoint": "api2.amplitude.com"}, "endpoint: must be an http:// or https:// URL"),
        ({"endpoint": "https://u:p@proxy.example"}, "endpoint: must not hold credentials"),
        ({"endpoint": "https://proxy.example/?x=1"}, "endpoint: must not have a query"),
        ({"apikey": "x"}, "unknown key 'apikey'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_field(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _structure(**table)
    assert message in str(raised.value)


def test_the_key_never_shows_in_a_repr_or_an_error() -> None:
    key = "0123456789abcdef0123456789abcdef"
    assert key not in repr(_structure(api_key=key))
    with pytest.raises(ConfigError) as raised:
        _structure(api_key=key + "\n")
    assert key not in str(raised.value)
