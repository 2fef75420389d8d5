"""The ``[destination.settings]`` of a Mixpanel destination.

Two ways to authenticate ``/import``, as Mixpanel documents them: a service account
(``service_account_username`` + ``service_account_secret``, with ``project_id``) or the legacy
project secret (``api_secret``). Exactly one must be configured. ``/engage`` (profiles) is
authenticated by the project token inside each update, so ``profiles = true`` also needs
``project_token``. Validators raise ``ValueError`` naming the field; the core reports it as a
config error (exit 2).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from deliverator import Secret

REGION_HOSTS: Final[dict[str, str]] = {
    "us": "https://api.mixpanel.com",
    "eu": "https://api-eu.mixpanel.com",
    "in": "https://api-in.mixpanel.com",
}
"""The ingestion host for each data-residency region; a project's data must go to its own."""


def _check_region(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if value not in REGION_HOSTS:
        raise ValueError(f"region must be one of 'us', 'eu', 'in', got {value!r}")


def _check_endpoint(_: Any, __: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint must be an http:// or https:// URL with a host, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("endpoint must not hold credentials: set them in their own settings")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint must not have a query or fragment, got {value!r}")


def _check_text(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _check_secret(_: Any, attribute: attrs.Attribute[Secret | None], value: Secret | None) -> None:
    if value is not None and not value.reveal().strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _strip_slash(value: str | None) -> str | None:
    return value.rstrip("/") if isinstance(value, str) else value


@attrs.frozen(kw_only=True)
class MixpanelSettings:
    """Where and as whom to send. ``endpoint`` replaces the region's host (a proxy, or the
    emulator on loopback). Secrets show as ``Secret('********')`` in the repr."""

    project_id: str | None = attrs.field(default=None, validator=_check_text)
    """The numeric project id, as a string; required with a service account."""
    service_account_username: str | None = attrs.field(default=None, validator=_check_text)
    service_account_secret: Secret | None = attrs.field(default=None, validator=_check_secret)
    api_secret: Secret | None = attrs.field(default=None, validator=_check_secret)
    """The legacy project secret (instead of a service account)."""
    region: str = attrs.field(default="us", validator=_check_region)
    endpoint: str | None = attrs.field(default=None, converter=_strip_slash, validator=_check_endpoint)
    profiles: bool = False
    """Send identify events to ``/engage`` as ``$set`` profile updates instead of ignoring them."""
    project_token: str | None = attrs.field(default=None, validator=_check_text)
    """The project token ``/engage`` updates carry (``$token``); required with ``profiles``. Not a
    secret: Mixpanel's client SDKs publish it in every page."""

    def __attrs_post_init__(self) -> None:
        service_account = self.service_account_username is not None or self.service_account_secret is not None
        if service_account and self.api_secret is not None:
            raise ValueError("set either service_account_username + service_account_secret or api_secret, not both")
        if service_account:
            if self.service_account_username is None or self.service_account_secret is None:
                raise ValueError("a service account needs both service_account_username and service_account_secret")
            if self.project_id is None:
                raise ValueError("project_id is required with a service account (Mixpanel's ?project_id=)")
            if ":" in self.service_account_username:
                raise ValueError("service_account_username must not contain ':' (it is the Basic auth user name)")
        elif self.api_secret is None:
            raise ValueError(
                "no credentials: set service_account_username + service_account_secret (with project_id), or api_secret"
            )
        if self.profiles and self.project_token is None:
            raise ValueError("profiles = true needs project_token (the $token of /engage updates)")

    @property
    def base_url(self) -> str:
        """The ingestion base URL in use: ``endpoint`` if set, else the region's host."""
        return self.endpoint or REGION_HOSTS[self.region]

    def basic_credentials(self) -> tuple[str, str]:
        """(user, password) for HTTP Basic auth. Never log what this returns."""
        if self.api_secret is not None:
            return self.api_secret.reveal(), ""
        if self.service_account_username is None or self.service_account_secret is None:
            raise ValueError("no credentials configured")  # __attrs_post_init__ refuses this
        return self.service_account_username, self.service_account_secret.reveal()
