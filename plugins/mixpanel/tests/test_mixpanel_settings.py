"""Settings: the two ways to authenticate, the region hosts, and secrets that never show."""

from __future__ import annotations

from typing import Any

import pytest

from deliverator import ConfigError
from deliverator.testing import Destination
from deliverator_mixpanel import plugin
from deliverator_mixpanel.settings import MixpanelSettings
from plugins.mixpanel.tests.conftest import API_SECRET, SA_SECRET, SA_USER, settings_table


def load(**overrides: Any) -> MixpanelSettings:
    settings = Destination.from_plugins([("mixpanel", plugin)], settings_table(**overrides)).settings
    assert isinstance(settings, MixpanelSettings)
    return settings


def test_the_project_secret_alone_is_enough() -> None:
    settings = load()
    assert settings.basic_credentials() == (API_SECRET, "")
    assert settings.base_url == "https://api.mixpanel.com"


def test_a_service_account_needs_its_project_id() -> None:
    settings = load(api_secret=None, service_account_username=SA_USER, service_account_secret=SA_SECRET, project_id="7")
    assert settings.basic_credentials() == (SA_USER, SA_SECRET)
    with pytest.raises(ConfigError, match="project_id is required"):
        load(api_secret=None, service_account_username=SA_USER, service_account_secret=SA_SECRET)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_secret": None}, "no credentials"),
        ({"service_account_username": SA_USER, "service_account_secret": SA_SECRET}, "not both"),
        ({"api_secret": None, "service_account_username": SA_USER, "project_id": "7"}, "needs both"),
        ({"api_secret": ""}, "api_secret: must not be empty"),
        ({"region": "uk"}, "region: must be one of"),
        ({"endpoint": "ftp://x"}, "endpoint: must be an http"),
        ({"endpoint": "https://u:p@host"}, "must not hold credentials"),
        ({"profiles": True}, "needs project_token"),
        ({"profiles": "yes"}, "expected true or false"),
        ({"project_id": 7}, "expected a string"),
        ({"api_key": "x"}, "unknown key 'api_key'"),
    ],
)
def test_a_wrong_setting_is_a_config_error_naming_it(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(**overrides)


@pytest.mark.parametrize(("region", "host"), [("eu", "api-eu.mixpanel.com"), ("in", "api-in.mixpanel.com")])
def test_each_region_has_its_own_host(region: str, host: str) -> None:
    assert load(region=region).base_url == f"https://{host}"


def test_endpoint_replaces_the_region_host_without_a_trailing_slash() -> None:
    assert load(region="eu", endpoint="http://127.0.0.1:9100/").base_url == "http://127.0.0.1:9100"


def test_secrets_never_appear_in_the_repr() -> None:
    text = repr(load()) + repr(
        load(api_secret=None, service_account_username=SA_USER, service_account_secret=SA_SECRET, project_id="7")
    )
    assert API_SECRET not in text and SA_SECRET not in text
