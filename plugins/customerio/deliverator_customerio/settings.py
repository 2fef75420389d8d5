"""The ``[destination.settings]`` of a Customer.io destination.

The core structures the config table into :class:`CustomerIOSettings` (a string becomes a
:class:`deliverator.Secret` for ``api_key``; unknown keys are config errors). The validators
here raise ``ValueError`` with messages that name the field, which the core reports as a
config error.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from deliverator import Secret

REGION_HOSTS: Final[dict[str, str]] = {
    "us": "https://track.customer.io",
    "eu": "https://track-eu.customer.io",
}
"""The Track API's base URL for each data-centre region."""


def _check_site_id(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("site_id must be a non-empty string (the Site ID of your Track API key)")
    if ":" in value:
        raise ValueError("site_id must not contain ':' (it is the user name of HTTP Basic auth)")


def _check_api_key(_: Any, __: attrs.Attribute[Secret], value: Secret) -> None:
    if not isinstance(value, Secret):
        raise ValueError("api_key must be a deliverator.Secret (the config loader wraps strings)")
    if not value.reveal().strip():
        raise ValueError("api_key must not be empty")


def _check_region(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if value not in REGION_HOSTS:
        raise ValueError(f"region must be 'us' or 'eu', got {value!r}")


def _check_endpoint(_: Any, __: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"endpoint must be a URL string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint must be an http:// or https:// URL with a host, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("endpoint must not hold credentials: set site_id and api_key instead")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint must not have a query or fragment, got {value!r}")


def _check_bool(_: Any, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{attribute.name} must be true or false, got {value!r}")


def _strip_slash(value: str | None) -> str | None:
    return value.rstrip("/") if isinstance(value, str) else value


@attrs.frozen(kw_only=True)
class CustomerIOSettings:
    """Where and as whom to send: a Track API Site ID and key, and the account's region.

    ``endpoint`` replaces the region's base URL (a proxy, or the emulator on loopback).
    ``convert_timestamps`` turns ISO-8601 strings nested in attributes into Unix seconds.
    The repr shows ``api_key`` as ``Secret('********')``.
    """

    site_id: str = attrs.field(validator=_check_site_id)
    api_key: Secret = attrs.field(validator=_check_api_key)
    region: str = attrs.field(default="us", validator=_check_region)
    """``"us"`` or ``"eu"`` (typed ``str`` so that a wrong value gets our message, not cattrs')."""
    endpoint: str | None = attrs.field(default=None, converter=_strip_slash, validator=_check_endpoint)
    convert_timestamps: bool = attrs.field(default=True, validator=_check_bool)

    @property
    def base_url(self) -> str:
        """The Track API base URL in use: ``endpoint`` if set, else the region's host."""
        return self.endpoint or REGION_HOSTS[self.region]
