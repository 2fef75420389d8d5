"""The one Mixpanel project the emulator serves, and who may write to it."""

from __future__ import annotations

import base64
import binascii
import hmac

import attrs


@attrs.frozen(kw_only=True)
class Project:
    """A project's id and credentials: a service account, the legacy project secret and the
    project token (which ``/import`` also accepts as the Basic user name, and which every
    ``/engage`` update carries as ``$token``)."""

    project_id: str = "1"
    token: str = "project-token"
    api_secret: str = attrs.field(default="project-secret", repr=False)
    service_account_username: str = "deliverator.sa"
    service_account_secret: str = attrs.field(default="sa-secret", repr=False)

    def import_refusal(self, authorization: str | None, project_id: str | None) -> str | None:
        """Why ``/import`` refuses these credentials, or None when they are good."""
        credentials = _basic(authorization)
        if credentials is None:
            return "Invalid credentials: HTTP Basic auth is required"
        user, password = credentials
        if _same(user, self.service_account_username) and _same(password, self.service_account_secret):
            if project_id != self.project_id:
                return "Invalid credentials: project_id is missing or not this service account's project"
            return None
        # The legacy secret and the token are user names with an empty password.
        if not password and (_same(user, self.api_secret) or _same(user, self.token)):
            return None
        return "Invalid credentials"


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
