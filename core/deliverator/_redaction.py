"""Keeping configured secrets out of everything a run writes or says.

:class:`~deliverator.Secret` hides a value inside the program, but a server may hand it
back: one that echoes request headers returns ``Authorization: Basic <base64 of
site:key>`` in its body, and that body goes into outcome records and dead letters. So the
values of every configured secret, and the encodings a request carries them in, are
remembered when a destination's settings are built, and :func:`redact` takes them out of
answer text before it is stored.

Credentials in URLs (``https://user:pass@host/?api_key=...``) are removed from any message by
:func:`redact_urls`; their values are remembered as secrets too.

The registry is process-wide and only grows: forgetting a secret could only ever leak it,
while remembering one too many costs nothing but a ``********`` too many.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any, Final

import attrs
import orjson

from deliverator._secret import Secret

MASK: Final = "********"
_BYTE_MASK: Final = MASK.encode()

MIN_SECRET_CHARS: Final = 4
"""Shorter values are not searched for (they would mask ordinary words, and protect nothing)."""

_URL: Final = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^\s/?#@'\"<>]*@)?([^\s?#'\"<>]*)(\?[^\s#'\"<>]*)?")

_SENSITIVE_QUERY_KEY: Final = re.compile(r"key|token|secret|pass|auth|sig|cred|session", re.IGNORECASE)

_lock = threading.Lock()
_forms: tuple[str, ...] = ()
# One alternation of every form, longest first: a single pass of the regex engine per text,
# which costs a small fraction of one substring search per form.
_pattern: re.Pattern[str] | None = None
_byte_pattern: re.Pattern[bytes] | None = None


def _encodings(secret: str, companions: Iterable[str]) -> set[str]:
    """The ways ``secret`` may appear in text: as is, JSON-escaped, URL-encoded, base64, and
    base64 of the ``user:password`` pairs HTTP Basic auth builds from it."""
    forms = {secret, orjson.dumps(secret).decode()[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret)}  # fmt: skip
    pairs = [secret]
    for other in {"", *companions}:
        pairs += [f"{other}:{secret}", f"{secret}:{other}"]
    for pair in pairs:
        raw = pair.encode()
        forms.add(base64.b64encode(raw).decode().rstrip("="))
        forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    # Whatever precedes it in a base64 text (a user name we do not know), the secret's bytes
    # fall at one of three offsets: keep the characters that depend on its bytes alone.
    raw = secret.encode()
    for offset in range(3):
        start, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        padded = bytes(offset) + raw + bytes(3)
        forms.add(base64.b64encode(padded).decode()[start:end])
        forms.add(base64.urlsafe_b64encode(padded).decode()[start:end])
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def remember(secrets: Iterable[str], companions: Iterable[str] = ()) -> None:
    """Redact ``secrets`` (and their encodings) from now on. ``companions`` are the other
    settings a secret may be paired with in a Basic-auth header (a site id, a user name)."""
    secrets = [value for value in secrets if len(value) >= MIN_SECRET_CHARS]
    if not secrets:
        return
    companions = list(companions)
    global _forms, _pattern, _byte_pattern
    with _lock:
        forms = set(_forms)
        for secret in secrets:
            forms |= _encodings(secret, [*companions, *secrets])
        # Longest first, so a pair's base64 is masked whole before any shorter form inside it.
        ordered = tuple(sorted(forms, key=len, reverse=True))
        _pattern = re.compile("|".join(map(re.escape, ordered)))
        _byte_pattern = re.compile(b"|".join(re.escape(form.encode()) for form in ordered))
        _forms = ordered


def remember_settings(settings: Any) -> None:
    """Remember every :class:`Secret` in a destination's settings (an attrs instance or a
    mapping), and every password or query value in a URL-valued setting."""
    values = _setting_values(settings)
    secrets = [value.reveal() for value in values if isinstance(value, Secret)]
    plain = [value for value in values if isinstance(value, str)]
    for text in plain:
        secrets += url_credentials(text)
    remember(secrets, plain)


def _setting_values(settings: Any) -> list[Any]:
    if attrs.has(type(settings)):
        found = [getattr(settings, field.name, None) for field in attrs.fields(type(settings))]
    elif isinstance(settings, dict):
        found = list(settings.values())
    else:
        return []
    values: list[Any] = []
    for value in found:
        if isinstance(value, list | tuple):
            values.extend(value)
        elif isinstance(value, dict) or attrs.has(type(value)):
            values.extend(_setting_values(value))
        else:
            values.append(value)
    return values


def url_credentials(text: str) -> list[str]:
    """The user-info password of every URL in ``text``, and the values of query parameters
    whose names say they are credentials (``api_key``, ``token``, ``sig``...)."""
    found: list[str] = []
    for match in _URL.finditer(text):
        userinfo, query = match.group(2), match.group(4)
        if userinfo:
            user, _, password = userinfo[:-1].partition(":")
            found += [urllib.parse.unquote(password or user)]
        if query:
            pairs = urllib.parse.parse_qsl(query[1:], keep_blank_values=False)
            found += [value for key, value in pairs if _SENSITIVE_QUERY_KEY.search(key)]
    return found


def forms() -> tuple[str, ...]:
    """Every remembered secret form (a new tuple each time one is added)."""
    return _forms


def redact(text: str) -> str:
    """``text`` with every remembered secret form replaced by ``********``."""
    pattern = _pattern
    return text if pattern is None else pattern.sub(MASK, text)


def redact_bytes(data: bytes) -> bytes:
    """:func:`redact` for encoded text (UTF-8 JSON)."""
    pattern = _byte_pattern
    return data if pattern is None else pattern.sub(_BYTE_MASK, data)


def cut(text: str, limit: int) -> str:
    """The first ``limit`` characters of already-redacted ``text``, without a remembered
    secret's beginning left at the cut."""
    if len(text) <= limit:
        return text
    text = text[:limit]
    for form in _forms:
        for size in range(min(len(form) - 1, len(text)), MIN_SECRET_CHARS - 1, -1):
            if text.endswith(form[:size]):
                return text[:-size]
    return text


def redact_urls(text: str) -> str:
    """``text`` with the user-info of every URL in it, and the values of query parameters whose
    names say they are credentials, replaced (and every remembered secret), so a message can
    name an endpoint without its credentials. Other parameters (``?stream=events``) stay
    readable."""

    def replace(match: re.Match[str]) -> str:
        scheme, userinfo, rest, query = match.groups()
        return f"{scheme}{MASK + '@' if userinfo else ''}{rest}{_masked_query(query) if query else ''}"

    return redact(_URL.sub(replace, text))


def _masked_query(query: str) -> str:
    def parameter(part: str) -> str:
        key, equals, _ = part.partition("=")
        return f"{key}={MASK}" if equals and _SENSITIVE_QUERY_KEY.search(urllib.parse.unquote_plus(key)) else part

    return "?" + "&".join(parameter(part) for part in query[1:].split("&"))
