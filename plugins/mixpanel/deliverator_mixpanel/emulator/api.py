"""Mixpanel's ingestion behaviour, independent of sockets: one request in, one
:class:`Answer` out.

``POST /import``: latency, credentials, the body size limit, parsing (a JSON array, or NDJSON;
gzip allowed), the event count, injected faults, then per-event validation: 200 when every
event was imported, 400 with ``failed_records`` when some were not (the others *were*
imported). ``strict=0`` imports the valid events and answers 200 (Mixpanel does not document
it; this is our reading). ``POST /engage``: ``$set`` updates, all or nothing, answered 200 with
``status`` 1 or 0.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import orjson

from deliverator import Clock, RealClock
from deliverator_mixpanel.emulator import answers
from deliverator_mixpanel.emulator.answers import Answer
from deliverator_mixpanel.emulator.faults import FaultInjector, FaultKind, Faults
from deliverator_mixpanel.emulator.limits import MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES
from deliverator_mixpanel.emulator.project import Project
from deliverator_mixpanel.emulator.store import Store
from deliverator_mixpanel.emulator.validation import RecordError, update_problem, validate_event

IMPORT_PATH: Final = "/import"
ENGAGE_PATH: Final = "/engage"


class IngestionApi:
    """Answers ingestion requests for one :class:`Project`, recording into a :class:`Store`."""

    def __init__(
        self,
        project: Project,
        store: Store,
        faults: Faults,
        *,
        clock: Clock | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.project = project
        self.store = store
        self.max_request_bytes = max_request_bytes
        self._clock = clock or RealClock()
        self.injector = FaultInjector(faults, self._clock)

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one request; ``target`` is the request line's path with its query."""
        parts = urlsplit(target)
        if parts.path not in (IMPORT_PATH, ENGAGE_PATH):
            return answers.error(404, f"no such endpoint: {method} {parts.path}")
        if method != "POST":
            return answers.error(
                405, f"{method} is not allowed on {parts.path}; use POST", headers=(("Allow", "POST"),)
            )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        latency = self.injector.faults.latency_s
        if latency:
            self._clock.sleep(latency)
        if parts.path == IMPORT_PATH:
            return self._import(headers, query, body)
        return self._engage(query, body)

    def _import(self, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
        refusal = self.project.import_refusal(headers.get("authorization"), query.get("project_id"))
        if refusal is not None:
            return answers.unauthorized(refusal)
        data, problem = _decompressed(body, headers.get("content-encoding"))
        if problem is not None:
            return answers.error(400, problem)
        if len(data) > self.max_request_bytes:
            return answers.too_large(self.max_request_bytes)
        events, problem = _events(data, headers.get("content-type", ""))
        if problem is not None:
            return answers.error(400, problem)
        if len(events) > MAX_EVENTS_PER_REQUEST:
            return answers.error(400, f"a request may carry at most {MAX_EVENTS_PER_REQUEST} events, got {len(events)}")
        decision = self.injector.decide(len(events))
        if decision.kind is FaultKind.RATE_LIMITED:
            return answers.rate_limited()
        if decision.kind is FaultKind.SERVER_ERROR:
            return answers.error(decision.status, "the emulator was told to fail this request")
        now_ms = int(self._clock.time() * 1000)
        failures: list[tuple[int, str, RecordError]] = []
        received: list[tuple[Any, bool]] = []
        for index, event in enumerate(events):
            problem_of = validate_event(event, now_ms)
            if problem_of is not None:
                failures.append((index, _insert_id(event), problem_of))
            received.append((event, problem_of is None))
        self.store.receive(received)
        if decision.kind is FaultKind.LOSE_ANSWER:
            return answers.DROP
        imported = len(events) - len(failures)
        if failures and query.get("strict", "1") != "0":
            return answers.partly_imported(imported, failures)
        return answers.imported(imported)

    def _engage(self, query: dict[str, str], body: bytes) -> Answer:
        verbose = query.get("verbose") == "1"
        try:
            updates = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _engage_answer(verbose, False, "the body is not valid JSON")
        if isinstance(updates, dict):
            updates = [updates]
        if not isinstance(updates, list):
            return _engage_answer(verbose, False, "the body must be a JSON array of updates")
        if len(updates) > MAX_EVENTS_PER_REQUEST:
            return _engage_answer(verbose, False, f"at most {MAX_EVENTS_PER_REQUEST} updates per request")
        decision = self.injector.decide(len(updates))
        if decision.kind is FaultKind.RATE_LIMITED:
            return answers.rate_limited()
        if decision.kind is FaultKind.SERVER_ERROR:
            return answers.error(decision.status, "the emulator was told to fail this request")
        for update in updates:
            problem = update_problem(update, self.project.token)
            if problem is not None:
                return _engage_answer(verbose, False, problem)
        self.store.apply_updates(updates)
        if decision.kind is FaultKind.LOSE_ANSWER:
            return answers.DROP
        return _engage_answer(verbose, True)


def _engage_answer(verbose: bool, ok: bool, message: str | None = None) -> Answer:
    if verbose:
        return answers.engage(ok, message)
    return Answer(status=200, body=b"1" if ok else b"0", headers=(("Content-Type", "text/plain"),))


def _decompressed(body: bytes, encoding: str | None) -> tuple[bytes, str | None]:
    if not encoding or encoding.strip().lower() == "identity":
        return body, None
    if encoding.strip().lower() != "gzip":
        return b"", f"unsupported Content-Encoding {encoding[:40]!r}"
    try:
        return gzip.decompress(body), None
    except (OSError, EOFError, zlib.error):
        return b"", "the body is not valid gzip"


def _events(data: bytes, content_type: str) -> tuple[list[Any], str | None]:
    if content_type.split(";")[0].strip().lower() == "application/x-ndjson":
        try:
            return [orjson.loads(line) for line in data.splitlines() if line.strip()], None
        except orjson.JSONDecodeError as exc:
            return [], f"a line of the NDJSON body is not valid JSON: {exc}"
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return [], f"the body is not valid JSON: {exc}"
    if isinstance(value, dict):
        return [value], None
    if not isinstance(value, list):
        return [], "the body must be a JSON array of events"
    return value, None


def _insert_id(event: Any) -> str:
    properties = event.get("properties") if isinstance(event, dict) else None
    value = properties.get("$insert_id") if isinstance(properties, dict) else None
    return value if isinstance(value, str) else ""
