"""The HTTP V2 API's behaviour, independent of sockets: one request in, one :class:`Answer` out.

``POST /2/httpapi`` goes through, in order: injected latency and 5xx, the body size limit
(413), JSON and the request-level checks (400 with ``error`` / ``missing_field``), the API key
(400 ``Invalid API key: <the key sent>``), the event count (413), the event checks (400 naming events by field;
nothing ingested), the per-user limit (429 naming throttled users, devices and events; nothing
ingested), then ingestion with ``insert_id`` deduplication (200).
"""

from __future__ import annotations

import hmac
import threading
from collections import defaultdict
from typing import Final

import orjson

from deliverator import Clock, RealClock
from deliverator_amplitude.emulator import answers
from deliverator_amplitude.emulator.answers import Answer
from deliverator_amplitude.emulator.faults import FaultInjector, Faults
from deliverator_amplitude.emulator.limits import MAX_BODY_BYTES, MAX_EVENTS
from deliverator_amplitude.emulator.store import Store
from deliverator_amplitude.emulator.throttle import Throttle
from deliverator_amplitude.emulator.validation import EventCheck, RequestProblem, check_event, check_request

PATH: Final = "/2/httpapi"


class HttpApi:
    """Answers HTTP V2 requests for one project (one API key), recording into a :class:`Store`.

    ``clock`` drives latency, the per-user limit and arrival times (tests pass a FakeClock).
    ``max_events`` and ``max_body_bytes`` lower the documented limits (the real ones may be
    lower than documented; a client must split on 413).
    """

    def __init__(
        self,
        api_key: str,
        store: Store,
        faults: Faults,
        clock: Clock | None = None,
        *,
        max_events: int = MAX_EVENTS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._api_key = api_key
        self._max_events = max_events
        self._max_body_bytes = max_body_bytes
        self.store = store
        self._clock = clock or RealClock()
        self._lock = threading.Lock()
        self.injector = FaultInjector(faults)
        self._throttle = self._make_throttle(faults)

    def __repr__(self) -> str:
        return f"HttpApi(faults={self.injector.faults!r})"

    def replace_faults(self, faults: Faults) -> None:
        """Switch to ``faults`` (the per-user windows start empty)."""
        with self._lock:
            self.injector.replace(faults)
            self._throttle = self._make_throttle(faults)

    def _make_throttle(self, faults: Faults) -> Throttle | None:
        if not faults.user_events_per_second:
            return None
        return Throttle(faults.user_events_per_second, faults.throttle_window_s, self._clock)

    def answer(self, method: str, target: str, body: bytes) -> Answer:
        """The answer to one request; ``target`` is the request line's path (query allowed)."""
        path = target.split("?", 1)[0]
        if path != PATH:
            return answers.not_found(method, path)
        if method != "POST":
            return answers.method_not_allowed(method, path)
        decision = self.injector.decide()
        if decision.latency_s:
            self._clock.sleep(decision.latency_s)
        if decision.error_status is not None:
            return answers.server_error(decision.error_status)
        answer = self._upload(body)
        if decision.error_after_ingest and answer.status == 200:
            return answers.server_error(500)
        return answer

    def _upload(self, body: bytes) -> Answer:
        if len(body) >= self._max_body_bytes:
            return answers.too_large()
        if not body.strip():
            return answers.bad_request("Missing request body")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return answers.bad_request("Invalid JSON request body")
        upload = check_request(parsed)
        if isinstance(upload, RequestProblem):
            return answers.bad_request(upload.error, upload.missing_field)
        if not hmac.compare_digest(upload.api_key.encode(), self._api_key.encode()):
            # Amplitude echoes the key it was sent: a client must not log its answers blindly.
            return answers.bad_request(f"Invalid API key: {upload.api_key[:200]}")
        if len(upload.events) > self._max_events:
            return answers.too_large()
        checks = [check_event(event, upload.min_id_length) for event in upload.events]
        upload_ms = int(self._clock.time() * 1000)
        if not all(check.ok for check in checks):
            self.store.receive(upload.events, refused=sum(not check.ok for check in checks))
            return _invalid_events(checks, upload_ms)
        cleaned = [check.cleaned for check in checks]
        with self._lock:
            throttle = self._throttle
        if throttle is not None:
            verdict = throttle.admit(cleaned)
            if verdict.throttled:
                self.store.receive(upload.events, throttled=len(verdict.events))
                return answers.throttled(throttle.events_per_second, verdict.users, verdict.devices, verdict.events)
        self.store.receive(upload.events)
        self.store.ingest(cleaned, self._clock.monotonic())
        return answers.ingested(len(cleaned), len(body), upload_ms)


def _invalid_events(checks: list[EventCheck], upload_ms: int) -> Answer:
    invalid: dict[str, list[int]] = defaultdict(list)
    missing: dict[str, list[int]] = defaultdict(list)
    id_lengths: dict[str, list[int]] = defaultdict(list)
    for index, check in enumerate(checks):
        for fields, target in ((check.invalid, invalid), (check.missing, missing), (check.id_lengths, id_lengths)):
            for field in fields:
                target[field].append(index)
    return answers.invalid_events(invalid, missing, id_lengths, upload_ms)
