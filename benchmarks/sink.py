"""A fast HTTP/1.1 sink on loopback: the one server every benchmark runner posts to.

It must never be the bottleneck, so it does the least a server can: one asyncio ``Protocol``
per connection, keep-alive and pipelining, a body read by ``Content-Length`` and never parsed,
and one pre-built answer, ``200 {}``. It runs in its own process (or several, sharing the port
through ``SO_REUSEPORT``) so that it never competes with the client for the GIL. Each worker
reports how much CPU it used, which tells whether it came close to saturating.

Four modes:

- ``ok``: every request gets ``200 {}`` (Customer.io's v2 batch success, and what the official
  client's v1 ``POST /api/v1/customers/{id}/events`` expects).
- ``items``: for the retry-amplification run. The body ``{"batch": [{"id": ...}, ...]}`` is
  parsed; one request in twenty gets ``503``; otherwise each item is accepted or refused with a
  retryable ``503`` by a deterministic rule on (item id, how many times this item arrived), and
  the answer is ``{"results": [{"status": 200}, {"status": 503, "message": ...}, ...]}``. Every
  arrival of every id is counted, so re-sends are measured where they happen: at the server.
- ``limited``: a destination that allows ``rate`` requests a second, as a token bucket with
  ``burst``: a request with a token is answered ``200 {}`` after ``latency_s``; one without
  gets ``429`` with ``Retry-After: 1`` at once (the adaptive-concurrency benchmark).
- ``knee``: a destination with ``workers`` requests served at once, ``service_s`` each; more
  in flight wait their turn, so latency grows with the requests in flight beyond the knee.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import multiprocessing
import queue
import random
import signal
import socket
import ssl
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs
import orjson

Mode = Literal["ok", "items", "limited", "knee"]

_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 16 * 1024 * 1024
_OK: Final = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
)
_TOO_MANY: Final = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)
_START_TIMEOUT_S: Final = 30.0


@attrs.frozen(kw_only=True)
class ItemsRule:
    """The faults of ``items`` mode: which requests fail whole and which items are refused."""

    reject_item_percent: int = 10
    fail_every_nth_request: int = 20
    """Request number k (1-based, per worker) gets 503 when k % n == 0: 5 % for n = 20."""

    def rejects(self, item_id: str, arrival: int) -> bool:
        """Whether the ``arrival``-th copy of ``item_id`` is refused (retryably).

        A pure function of both, so an item refused once is usually accepted when it comes
        back, and a rerun refuses the same items."""
        digest = zlib.crc32(f"{item_id}#{arrival}".encode())
        return digest % 100 < self.reject_item_percent

    def fails_request(self, request_number: int) -> bool:
        """Whether the ``request_number``-th request (1-based) is answered 503 as a whole."""
        n = self.fail_every_nth_request
        return n > 0 and request_number % n == 0


@attrs.frozen(kw_only=True)
class Shape:
    """The behaviour of ``limited`` and ``knee`` modes."""

    rate: float = 200.0
    """``limited``: requests a second the token bucket allows."""
    burst: float = 20.0
    """``limited``: tokens the bucket holds at most."""
    latency_s: float = 0.1
    """``limited``: how long an accepted request takes."""
    workers: int = 8
    """``knee``: requests served at once."""
    service_s: float = 0.05
    """``knee``: how long serving one request takes."""


class _Pacing:
    """Per-worker state of ``limited`` and ``knee``: the bucket, and when each worker is free.
    Latency varies by up to 10 % either way (seeded), as real answers do."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.tokens = shape.burst
        self.updated = time.monotonic()
        self.free_at = [0.0] * shape.workers
        self.random = random.Random(7)

    def limited(self, now: float) -> float | None:
        """The delay before answering 200, or None for a 429 now."""
        shape = self.shape
        self.tokens = min(shape.burst, self.tokens + (now - self.updated) * shape.rate)
        self.updated = now
        if self.tokens < 1:
            return None
        self.tokens -= 1
        return shape.latency_s * self.random.uniform(0.9, 1.1)

    def knee(self, now: float) -> float:
        """The delay before answering: waiting for a free worker, then the service time."""
        start = max(now, heapq.heappop(self.free_at))
        done = start + self.shape.service_s * self.random.uniform(0.9, 1.1)
        heapq.heappush(self.free_at, done)
        return done - now


@attrs.frozen(kw_only=True)
class TlsFiles:
    """A throwaway certificate for the sink and the CA that signed it (PEM files)."""

    ca_path: Path
    cert_chain_path: Path
    key_path: Path


@attrs.frozen(kw_only=True)
class SinkStats:
    """What the sink saw during one benchmark run, merged over its workers."""

    requests: int
    body_bytes: int
    cpu_s: float
    serving_s: float
    routes: Mapping[str, int]
    statuses: Mapping[str, int]
    item_arrivals: int = 0
    distinct_items: int = 0
    items_refused: int = 0
    items_in_failed_requests: int = 0
    workers: int = 1
    active_s: float = 0.0
    """From the first request to the last one (the busiest worker's)."""

    @property
    def busiest_core_share(self) -> float:
        """CPU seconds per second of serving, over all workers (1.0 = one core flat out)."""
        return self.cpu_s / self.serving_s if self.serving_s > 0 else 0.0

    @property
    def resent_items(self) -> int:
        """Arrivals beyond the first of each id."""
        return self.item_arrivals - self.distinct_items

    @property
    def retryable_failures(self) -> int:
        """Item copies the sink refused retryably (one by one, or with their whole request)."""
        return self.items_refused + self.items_in_failed_requests


class _Counters:
    """Per-worker tallies; plain ints because a worker is single-threaded."""

    def __init__(self) -> None:
        self.requests = 0
        self.body_bytes = 0
        self.routes: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.arrivals: Counter[str] = Counter()
        self.items_refused = 0
        self.items_in_failed_requests = 0
        self.first_at: float | None = None
        self.last_at = 0.0


def _route(path: bytes) -> str:
    if path.startswith(b"/api/v2/batch"):
        return "v2_batch"
    if path.startswith(b"/api/v1/"):
        return "v1_track"
    if path.startswith(b"/bench/batch"):
        return "bench_batch"
    return "other"


def _response(status: int, reason: str, body: bytes, close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


class _Connection(asyncio.Protocol):
    """One client connection: split the byte stream into requests and answer each in turn."""

    __slots__ = ("_buffer", "_counters", "_mode", "_pacing", "_rule", "_transport")

    def __init__(self, counters: _Counters, mode: Mode, rule: ItemsRule, pacing: _Pacing | None = None) -> None:
        self._counters = counters
        self._mode = mode
        self._rule = rule
        self._pacing = pacing
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        transport = self._transport
        assert transport is not None
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(buffer) > _MAX_HEAD:
                    self._refuse(transport, f"request head over {_MAX_HEAD} bytes")
                return
            head = bytes(buffer[:head_end])
            length, close, problem = _read_head(head)
            if problem:
                self._refuse(transport, problem)
                return
            end = head_end + 4 + length
            if len(buffer) < end:
                return
            body = bytes(buffer[head_end + 4 : end])
            del buffer[:end]
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
            if self._pacing is not None and not close:
                self._answer_later(path, body, transport)
                if not buffer:
                    return
                continue
            transport.write(self._answer(path, body, close))
            if close:
                transport.close()
                return
            if not buffer:
                return

    def _answer_later(self, path: bytes, body: bytes, transport: asyncio.Transport) -> None:
        """``limited`` and ``knee``: answer after the shape's delay (clients here send one
        request at a time per connection, so answers cannot overtake each other)."""
        counters, pacing = self._counters, self._pacing
        assert pacing is not None
        counters.requests += 1
        counters.body_bytes += len(body)
        counters.routes[_route(path)] += 1
        now = time.monotonic()
        if counters.first_at is None:
            counters.first_at = now
        counters.last_at = now
        delay = pacing.limited(now) if self._mode == "limited" else pacing.knee(now)
        if delay is None:
            counters.statuses["429"] += 1
            transport.write(_TOO_MANY)
            return
        counters.statuses["200"] += 1
        asyncio.get_running_loop().call_later(delay, _write_if_open, transport, _OK)

    def _answer(self, path: bytes, body: bytes, close: bool) -> bytes:
        counters = self._counters
        counters.requests += 1
        counters.body_bytes += len(body)
        counters.routes[_route(path)] += 1
        if counters.first_at is None:
            counters.first_at = time.monotonic()
        if self._mode == "ok":
            counters.statuses["200"] += 1
            return _OK if not close else _response(200, "OK", b"{}", close=True)
        status, payload = _judge_batch(body, counters, self._rule)
        counters.statuses[str(status)] += 1
        reason = "OK" if status == 200 else ("Service Unavailable" if status == 503 else "Bad Request")
        return _response(status, reason, payload, close)

    def _refuse(self, transport: asyncio.Transport, message: str) -> None:
        """Answer 400 naming the problem and close: the stream cannot be trusted after it."""
        self._counters.statuses["400"] += 1
        body = orjson.dumps({"error": message})
        transport.write(_response(400, "Bad Request", body, close=True))
        transport.close()


def _write_if_open(transport: asyncio.Transport, data: bytes) -> None:
    if not transport.is_closing():
        transport.write(data)


def _read_head(head: bytes) -> tuple[int, bool, str]:
    """(Content-Length, whether the client asked to close, a problem or "")."""
    lower = head.lower()
    if b"\r\ntransfer-encoding:" in lower:
        return 0, True, "chunked bodies are not supported: send a Content-Length"
    length = 0
    marker = lower.find(b"\r\ncontent-length:")
    if marker >= 0:
        line_end = lower.find(b"\r\n", marker + 2)
        raw = lower[marker + 17 : line_end if line_end >= 0 else len(lower)].strip()
        if not raw.isdigit():
            return 0, True, f"bad content-length {raw[:20]!r}"
        length = int(raw)
        if length > _MAX_BODY:
            return 0, True, f"content-length {length} is over {_MAX_BODY}"
    close = b"\r\nconnection: close" in lower
    return length, close, ""


def _judge_batch(body: bytes, counters: _Counters, rule: ItemsRule) -> tuple[int, bytes]:
    """Answer one ``items``-mode request: a whole-request 503, or one result per item."""
    try:
        batch = orjson.loads(body)["batch"]
        ids = [str(item["id"]) for item in batch]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        return 400, orjson.dumps({"error": f"expected {{'batch': [{{'id': ...}}]}}: {exc}"})
    arrivals = counters.arrivals
    for item_id in ids:
        arrivals[item_id] += 1
    if rule.fails_request(counters.requests):
        counters.items_in_failed_requests += len(ids)
        return 503, orjson.dumps({"error": "bench sink: this request fails as a whole"})
    results: list[dict[str, Any]] = []
    for item_id in ids:
        arrival = arrivals[item_id]
        if rule.rejects(item_id, arrival):
            counters.items_refused += 1
            results.append({"status": 503, "message": f"bench sink refused arrival {arrival}"})
        else:
            results.append({"status": 200})
    return 200, orjson.dumps({"results": results})


def _server_tls_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.cert_chain_path), str(tls.key_path))
    return context


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def _serve(
    port: int, mode: Mode, rule: ItemsRule, tls: TlsFiles | None, reports: Any, shape: Shape
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    counters = _Counters()
    pacing = _Pacing(shape) if mode in ("limited", "knee") else None
    server = await loop.create_server(
        lambda: _Connection(counters, mode, rule, pacing),
        sock=_listening_socket(port),
        ssl=_server_tls_context(tls) if tls else None,
    )
    cpu_start, wall_start = time.process_time(), time.monotonic()
    reports.put(("ready", None))
    async with server:
        await stop.wait()
    return {
        "requests": counters.requests,
        "body_bytes": counters.body_bytes,
        "cpu_s": time.process_time() - cpu_start,
        "serving_s": time.monotonic() - wall_start,
        "routes": dict(counters.routes),
        "statuses": dict(counters.statuses),
        "arrivals": dict(counters.arrivals),
        "items_refused": counters.items_refused,
        "items_in_failed_requests": counters.items_in_failed_requests,
        "active_s": max(0.0, counters.last_at - counters.first_at) if counters.first_at is not None else 0.0,
    }


def _worker(port: int, mode: Mode, rule: ItemsRule, tls: TlsFiles | None, reports: Any, shape: Shape) -> None:
    """A sink process: serve until SIGTERM, then report what it saw."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    try:
        stats = asyncio.run(_serve(port, mode, rule, tls, reports, shape))
    except BaseException as exc:  # tell the parent instead of dying silently
        reports.put(("error", f"{type(exc).__name__}: {exc}"))
        raise
    reports.put(("stats", stats))


class Sink:
    """A running sink: ``with Sink(mode="ok", workers=2) as sink: ... sink.url ...``.

    ``stop()`` (or leaving the ``with``) ends the workers and returns their merged
    :class:`SinkStats`; it is also kept as ``stats``.
    """

    def __init__(
        self,
        *,
        mode: Mode = "ok",
        workers: int = 1,
        tls: TlsFiles | None = None,
        rule: ItemsRule | None = None,
        shape: Shape | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a sink needs at least one worker, got {workers}")
        if mode != "ok" and workers != 1:
            # Arrival counts must be exact per id, a rate limit or a knee is one server's.
            raise ValueError(f"{mode} mode is one server's behaviour: use exactly one worker")
        self.shape = shape or Shape()
        self.mode: Mode = mode
        self.workers = workers
        self.tls = tls
        self.rule = rule or ItemsRule()
        self.stats: SinkStats | None = None
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._context = multiprocessing.get_context("spawn")
        self._reports: Any = self._context.Queue()
        self._port = 0

    @property
    def port(self) -> int:
        """The port every worker listens on."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` or ``https://...`` with TLS."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    def __enter__(self) -> Sink:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._processes:
            self.stop()

    def start(self) -> None:
        """Start the workers and wait until each one listens."""
        # Hold the port (bound, not listening, so it takes no connections) until the
        # workers have bound it too.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            holder.bind(("127.0.0.1", 0))
            self._port = holder.getsockname()[1]
            for _ in range(self.workers):
                process = self._context.Process(
                    target=_worker,
                    args=(self._port, self.mode, self.rule, self.tls, self._reports, self.shape),
                    daemon=True,
                )
                process.start()
                self._processes.append(process)
            for _ in range(self.workers):
                kind, detail = self._next_report()
                if kind != "ready":
                    self._kill()
                    raise RuntimeError(f"a sink worker failed to start: {detail}")

    def stop(self) -> SinkStats:
        """Stop every worker and merge what they saw."""
        for process in self._processes:
            process.terminate()  # SIGTERM: the worker stops serving and reports
        reports: list[dict[str, Any]] = []
        try:
            for _ in self._processes:
                kind, detail = self._next_report()
                if kind != "stats":
                    raise RuntimeError(f"a sink worker failed: {detail}")
                reports.append(detail)
        finally:
            for process in self._processes:
                process.join(timeout=5)
            self._kill()
        self.stats = merge_stats(reports)
        return self.stats

    def _next_report(self) -> tuple[str, Any]:
        try:
            kind, detail = self._reports.get(timeout=_START_TIMEOUT_S)
        except queue.Empty:
            self._kill()
            raise RuntimeError(f"no word from a sink worker in {_START_TIMEOUT_S:.0f} s") from None
        return str(kind), detail

    def _kill(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        self._processes.clear()
        with contextlib.suppress(Exception):
            self._reports.close()


def merge_stats(reports: list[dict[str, Any]]) -> SinkStats:
    """One :class:`SinkStats` from the reports of every worker."""
    routes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    arrivals: Counter[str] = Counter()
    for report in reports:
        routes.update(report["routes"])
        statuses.update(report["statuses"])
        arrivals.update(report["arrivals"])
    return SinkStats(
        requests=sum(r["requests"] for r in reports),
        body_bytes=sum(r["body_bytes"] for r in reports),
        cpu_s=sum(r["cpu_s"] for r in reports),
        serving_s=max((r["serving_s"] for r in reports), default=0.0),
        routes=dict(routes),
        statuses=dict(statuses),
        item_arrivals=sum(arrivals.values()),
        distinct_items=len(arrivals),
        items_refused=sum(r["items_refused"] for r in reports),
        items_in_failed_requests=sum(r["items_in_failed_requests"] for r in reports),
        workers=len(reports),
        active_s=max((r.get("active_s", 0.0) for r in reports), default=0.0),
    )
