"""The ``[destination.settings]`` of an Amplitude destination.

The core structures the config table into :class:`AmplitudeSettings` (a string becomes a
:class:`deliverator.Secret` for ``api_key``; unknown keys are config errors). The validators
raise ``ValueError`` with messages naming the field, which the core reports as a config error.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from deliverator import Secret

REGION_HOSTS: Final[dict[str, str]] = {
    "us": "https://api2.amplitude.com",
    "eu": "https://api.eu.amplitude.com",
}
"""The HTTP V2 API's base URL for each data-residency region."""

MAX_API_KEY_CHARS: Final = 200
"""Amplitude keys are 32 hex characters. The key travels in the request body, so the batcher
reserves room for one this long (see ``httpapi.BATCH_OVERHEAD_BYTES``)."""

MAX_MIN_ID_LENGTH: Final = 1024
"""Amplitude caps string values at 1024 characters, so no id could be longer."""


def _check_api_key(_: Any, __: attrs.Attribute[Secret], value: Secret) -> None:
    if not isinstance(value, Secret):
        raise ValueError("api_key must be a deliverator.Secret (the config loader wraps strings)")
    key = value.reveal()
    if not key.strip():
        raise ValueError("api_key must not be empty")
    if len(key) > MAX_API_KEY_CHARS or not key.isprintable() or not key.isascii() or any(c in key for c in '"\\'):
        # Never echo the key: say only what is wrong with it.
        raise ValueError(
            f"api_key must be at most {MAX_API_KEY_CHARS} printable ASCII characters without quotes or "
            "backslashes (an Amplitude API key is 32 hex characters)"
        )


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
        raise ValueError("endpoint must not hold credentials: set api_key instead")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint must not have a query or fragment, got {value!r}")


def _check_min_id_length(_: Any, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MIN_ID_LENGTH:
        raise ValueError(f"min_id_length must be a whole number from 1 to {MAX_MIN_ID_LENGTH}, got {value!r}")


def _strip_slash(value: str | None) -> str | None:
    return value.rstrip("/") if isinstance(value, str) else value


@attrs.frozen(kw_only=True)
class AmplitudeSettings:
    """Where and for which project to send: an API key and the project's region.

    ``endpoint`` replaces the region's base URL (a proxy, or the emulator on loopback); the
    path ``/2/httpapi`` is added to it. ``min_id_length`` is sent as ``options.min_id_length``:
    Amplitude removes user and device ids shorter than it. The repr shows ``api_key`` as
    ``Secret('********')``.
    """

    api_key: Secret = attrs.field(validator=_check_api_key)
    region: str = attrs.field(default="us", validator=_check_region)
    """``"us"`` or ``"eu"`` (typed ``str`` so that a wrong value gets our message, not cattrs')."""
    endpoint: str | None = attrs.field(default=None, converter=_strip_slash, validator=_check_endpoint)
    min_id_length: int = attrs.field(default=5, validator=_check_min_id_length)

    @property
    def base_url(self) -> str:
        """The API base URL in use: ``endpoint`` if set, else the region's host."""
        return self.endpoint or REGION_HOSTS[self.region]
