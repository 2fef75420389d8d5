"""The one HTTP client of a run: a shared urllib3 pool and an immutable response value.

Every attempt is counted and classified by the delivery loop, so urllib3 never retries or
follows redirects on its own. Bodies are read up to a cap so that a hostile or broken server
cannot exhaust memory.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs
import orjson
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

DEFAULT_MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024
"""The largest response body read; a larger one is an error, not a truncated answer."""

_READ_CHUNK: Final = 64 * 1024


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive response headers (repeated headers joined by ", ")."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for key, value in (items or {}).items():
            lower = key.lower()
            if lower in self._items:
                value = f"{self._items[lower][1]}, {value}"
            self._items[lower] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def _as_headers(headers: Mapping[str, str] | None) -> Headers:
    return headers if isinstance(headers, Headers) else Headers(headers)


@attrs.frozen(kw_only=True)
class HttpResponse:
    """What a destination answered: status, case-insensitive headers and the body bytes."""

    status: int
    headers: Headers = attrs.field(factory=Headers, converter=_as_headers)
    body: bytes = b""
    reason: str = ""

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON, whatever the Content-Type; raises ``ValueError`` if it is not."""
        return orjson.loads(self.body)


class TransportError(Exception):
    """A request that got no usable HTTP answer: no connection, a timeout, a broken or
    oversized response. ``kind`` is one of ``connect``, ``timeout``, ``protocol``, ``tls``,
    ``too_large``. The message never holds request headers, so no credentials."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@attrs.frozen(kw_only=True)
class HttpSettings:
    """Transport settings from ``[delivery]``: timeouts, pool size, TLS trust, body cap."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    pool_size: int = 4
    ca_bundle: str | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


class HttpClient:
    """One urllib3 PoolManager shared by every sender thread of a run.

    Retries and redirects are off: a 3xx comes back as a response like any other, and the
    loop decides what it means.
    """

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        ssl_context = ssl.create_default_context(cafile=self.settings.ca_bundle)
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=max(1, self.settings.pool_size),
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=self.settings.connect_timeout_s, read=self.settings.read_timeout_s),
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        return f"HttpClient({self.settings!r})"

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Make one request and read its whole (capped) body, or raise :class:`TransportError`."""
        try:
            raw = self._pool.request(
                method,
                url,
                body=body,
                headers=dict(headers or {}),
                redirect=False,
                retries=False,
                preload_content=False,
            )
        # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.
        except (NewConnectionError, ProtocolError) as exc:
            raise TransportError("connect", f"{method} {_safe_url(url)}: connection failed: {_reason(exc)}") from None
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise TransportError("timeout", f"{method} {_safe_url(url)}: timed out ({type(exc).__name__})") from None
        except SSLError as exc:
            raise TransportError("tls", f"{method} {_safe_url(url)}: TLS error: {_reason(exc)}") from None
        except HTTPError as exc:
            raise TransportError(
                "protocol", f"{method} {_safe_url(url)}: {type(exc).__name__}: {_reason(exc)}"
            ) from None
        try:
            body_bytes = self._read_capped(raw)
            return HttpResponse(
                status=raw.status,
                # urllib3's HTTPHeaderDict yields a repeated header once per value: Headers
                # keeps them all (joined by ", "), where dict() would keep only the last.
                headers=Headers(raw.headers),
                body=body_bytes,
                reason=raw.reason or "",
            )
        except ReadTimeoutError:
            raise TransportError("timeout", f"{method} {_safe_url(url)}: timed out reading the response") from None
        except (ProtocolError, HTTPError) as exc:
            raise TransportError("protocol", f"{method} {_safe_url(url)}: broken response: {_reason(exc)}") from None
        finally:
            raw.release_conn()

    def post(self, url: str, *, body: bytes, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """POST ``body`` to ``url``."""
        return self.request("POST", url, body=body, headers=headers)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url``."""
        return self.request("GET", url, headers=headers)

    def _read_capped(self, raw: urllib3.BaseHTTPResponse) -> bytes:
        cap = self.settings.max_response_bytes
        declared = raw.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raw.drain_conn()
            raise TransportError("too_large", f"response body of {declared} bytes exceeds the {cap}-byte cap")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = raw.read(_READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise TransportError("too_large", f"response body exceeds the {cap}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()


def _safe_url(url: str) -> str:
    """The URL without any user-info or query string, which may hold credentials."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.split("?", 1)[0]
    host_and_path = rest.split("?", 1)[0]
    authority, slash, path = host_and_path.partition("/")
    authority = authority.rsplit("@", 1)[-1]
    return f"{scheme}://{authority}{slash}{path}"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 puts the connection object's repr in some messages; keep the human part.
    return text.split(": ", 1)[-1] if text.startswith("<") else text
