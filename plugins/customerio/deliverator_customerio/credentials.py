"""``deliverator check`` for Customer.io: are the credentials good, and for which region?

``GET /api/v1/accounts/region`` answers on either regional host with the account's region and
workspace (``environment_id``), so a wrong region setting shows up here as a warning, before
any data is sent.
"""

from __future__ import annotations

from typing import Any

from deliverator import CheckResult, HttpClient, TransportError, error_text, parse_body
from deliverator_customerio.settings import REGION_HOSTS, CustomerIOSettings
from deliverator_customerio.trackapi import REGION_PATH, get_region


def check_credentials(settings: CustomerIOSettings, http: HttpClient) -> CheckResult:
    """Ask the Track API who these credentials belong to; never raises for an answer."""
    url = settings.base_url + REGION_PATH
    try:
        response = get_region(settings, http)
    except TransportError as exc:
        return CheckResult(ok=False, message=f"could not reach Customer.io at {settings.base_url}: {exc}")
    status = response.status
    if status in (401, 403):
        return CheckResult(
            ok=False,
            message=f"credentials rejected: check site_id and api_key (HTTP {status} from {url})",
        )
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return CheckResult(
            ok=False,
            message=f"Customer.io redirected the check (HTTP {status}) to {location or 'another URL'}: "
            "check region and endpoint",
        )
    if status != 200:
        text = error_text(response)[:300]
        return CheckResult(
            ok=False,
            message=f"unexpected answer HTTP {status} from {url}" + (f": {text}" if text else ""),
        )
    return _accepted(parse_body(response), settings)


def _accepted(body: Any, settings: CustomerIOSettings) -> CheckResult:
    if not isinstance(body, dict):
        return CheckResult(
            ok=True,
            message="credentials accepted, but the answer did not say which region the account is in",
            warnings=("the region check answered without a JSON object",),
        )
    region = body.get("region")
    environment_id = body.get("environment_id")
    details = {key: body[key] for key in ("region", "environment_id", "url") if key in body}
    warnings: list[str] = []
    if isinstance(region, str) and region != settings.region:
        right_host = REGION_HOSTS.get(region, body.get("url", "?"))
        warnings.append(
            f"configured region '{settings.region}' but the account is in '{region}': "
            f'set region = "{region}" (Track API host {right_host})'
        )
    where = f"region '{region}'" if isinstance(region, str) else "an unnamed region"
    workspace = f", environment_id {environment_id}" if environment_id is not None else ""
    return CheckResult(
        ok=True,
        message=f"credentials accepted: account in {where}{workspace}",
        details=details,
        warnings=tuple(warnings),
    )
