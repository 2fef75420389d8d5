"""The conformance kit: the rules every destination plugin keeps, checked against the plugin
itself over real loopback servers (the Singer SDK's standard target tests, for deliverator).

A plugin's test suite opts in by subclassing :class:`DestinationConformance` (exported by
``deliverator.testing``) and naming its hook module and test settings; pytest then runs one
test per rule. A broken rule fails with :class:`ConformanceFailure`, whose message names it.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final

import attrs
import orjson

from deliverator.destination import Destination
from deliverator.errorcodes import ErrorCode
from deliverator.errors import IgnoreEvent, PayloadValidationError
from deliverator.http import HttpClient, HttpResponse, HttpSettings, TransportError
from deliverator.inprocess import deliver_events, load_destination
from deliverator.multistatus import MultiStatusResponse
from deliverator.secret import Secret
from deliverator.testing import ScriptedResponse, ScriptedServer

RULES: Final[Mapping[str, str]] = {
    "one-result-per-payload": "for every scripted answer, parse_response returns None or one entry per payload",
    "malformed-answers": "parse_response never raises on a malformed body and returns None or a full MultiStatus",
    "one-request-per-batch": "send_batch makes exactly one request and never retries by itself",
    "secrets-stay-secret": "secret settings never appear in outcome records, error messages or reprs",
    "item-limit": "destination_spec declares max_item_bytes, and a payload over it fails 413 without being sent",
    "deterministic-payloads": "build_payload gives the same payload for the same event and leaves the event as it was",
    "valid-events-never-crash": "build_payload maps, refuses (PayloadValidationError) or ignores (IgnoreEvent) "
    "every event the core accepts, even one with only the required fields; it never crashes",
}
"""Every rule the kit checks, by name, with what it asks of a plugin."""


class ConformanceFailure(AssertionError):
    """A plugin broke a conformance rule; ``rule`` names it (a key of :data:`RULES`)."""

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"conformance rule {rule!r} broken ({RULES.get(rule, 'kit set-up')}): {detail}")


SAMPLE_EVENTS: Final[tuple[Mapping[str, Any], ...]] = (
    {
        "type": "identify",
        "userId": "kit-user-1",
        "messageId": "kit-m-identify",
        "timestamp": "2024-04-05T10:11:12.345Z",
        "traits": {"email": "kit@example.com", "plan": "pro", "logins": 3},
    },
    {
        "type": "track",
        "userId": "kit-user-1",
        "event": "Order Completed",
        "messageId": "kit-m-track",
        "timestamp": "2024-04-05T10:11:13Z",
        "properties": {"order_id": "o-1", "revenue": 12.5, "items": [{"sku": "a", "qty": 2}]},
    },
    {
        "type": "track",
        "anonymousId": "kit-anon-1",
        "event": "Viewed Pricing",
        "messageId": "kit-m-track-anon",
        "timestamp": 1712311873,
        "properties": {},
    },
    {
        "type": "page",
        "userId": "kit-user-1",
        "name": "Pricing",
        "messageId": "kit-m-page",
        "timestamp": "2024-04-05T10:11:14Z",
        "properties": {"url": "https://example.com/pricing"},
    },
    {
        "type": "screen",
        "userId": "kit-user-1",
        "name": "Home",
        "messageId": "kit-m-screen",
        "timestamp": "2024-04-05T10:11:15Z",
    },
    {
        "type": "group",
        "userId": "kit-user-1",
        "groupId": "kit-group-1",
        "messageId": "kit-m-group",
        "timestamp": "2024-04-05T10:11:16Z",
        "traits": {"name": "Acme"},
    },
    {
        "type": "alias",
        "userId": "kit-user-1",
        "previousId": "kit-anon-1",
        "messageId": "kit-m-alias",
        "timestamp": "2024-04-05T10:11:17Z",
    },
)
"""One event of each Segment type, valid for the core's checks."""

MINIMAL_EVENTS: Final[tuple[Mapping[str, Any], ...]] = (
    {"type": "identify", "userId": "kit-min-user"},
    {"type": "identify", "anonymousId": "kit-min-anon", "traits": None},
    {"type": "track", "anonymousId": "kit-min-anon", "event": "Minimal"},
    {"type": "track", "userId": 42, "event": "Numeric user", "properties": None},
    {"type": "page", "userId": "kit-min-user"},
    {"type": "screen", "anonymousId": "kit-min-anon"},
    {"type": "group", "userId": "kit-min-user", "groupId": "kit-min-group"},
    {"type": "alias", "userId": "kit-min-user", "previousId": "kit-min-anon"},
)
"""Events with only what the core requires (no messageId, no timestamp, no properties or
traits, null where a field may be null): what ``build_payload`` meets on a bad day."""

TYPICAL_ANSWERS: Final[tuple[ScriptedResponse, ...]] = (
    ScriptedResponse(status=200, body={}),
    ScriptedResponse(status=200, body=b""),
    ScriptedResponse(status=202, body={"status": "accepted"}),
    ScriptedResponse(status=207, body={"errors": [{"index": 0, "message": "bad"}]}),
    ScriptedResponse(status=400, body={"error": "bad request", "failed_records": [{"index": 0, "message": "bad"}]}),
    ScriptedResponse(status=401, body={"error": "invalid credentials"}),
    ScriptedResponse(status=403, body="forbidden"),
    ScriptedResponse(status=413, body={"error": "too large"}),
    ScriptedResponse(status=429, body={"error": "slow down"}, headers={"Retry-After": "1"}),
    ScriptedResponse(status=500, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}),
    ScriptedResponse(status=503, body='"unavailable"'),
)
"""Answers any batch API may give; a plugin adds its own with ``extra_answers``."""

MALFORMED_BODIES: Final[tuple[bytes, ...]] = (
    b"",
    b"   ",
    b"not json",
    b"<html>gateway</html>",
    b"\xff\xfe\x00",
    b"null",
    b"true",
    b"123",
    b'"a JSON string"',
    b'"{\\"errors\\": 5}"',
    b"[]",
    b"[1, 2, 3]",
    b"{}",
    b'{"errors": "not a list"}',
    b'{"errors": [1, null, "x"]}',
    b'{"errors": [{"batch_index": "zero"}, {"index": -1}]}',
    b'{"failed_records": {"index": 0}}',
    b'{"failed_records": [{"index": 99}]}',
    b'{"results": 5}',
    b'{"results": [null]}',
    b'{"code": 400, "error": null}',
    b'{"events_with_invalid_fields": "x", "throttled_events": [1000]}',
    b'{"a": ' * 50 + b"1" + b"}" * 50,
)
"""Bodies a server may send on a bad day: empty, not JSON, a JSON string, wrong shapes."""

MALFORMED_STATUSES: Final = (200, 207, 400, 413, 429, 500)

_SECRET_NAME: Final = re.compile(r"secret|key|token|password|passwd|credential", re.IGNORECASE)
_CLOSED_PORT_URL: Final = "http://127.0.0.1:9"
"""Where nothing listens (the discard port): for checks that must not reach a server."""


@attrs.frozen(kw_only=True)
class Conformance:
    """The checks of one plugin, as configured by a :class:`DestinationConformance` subclass.

    ``settings_for(url)`` gives the ``[destination.settings]`` table pointing the plugin at
    ``url``. Each ``check_*`` method raises :class:`ConformanceFailure` naming its rule.
    """

    plugin: object
    settings_for: Callable[[str], Mapping[str, Any]]
    events: Sequence[Mapping[str, Any]] = SAMPLE_EVENTS
    answers: Sequence[ScriptedResponse] = TYPICAL_ANSWERS
    malformed_bodies: Sequence[bytes] = MALFORMED_BODIES
    secret_settings: Sequence[str] | None = None
    oversized_event: Mapping[str, Any] | None = None

    # --- helpers ---------------------------------------------------------------------------

    def destination(self, url: str = _CLOSED_PORT_URL) -> Destination:
        """The plugin loaded as the core loads it, pointed at ``url``."""
        return load_destination(self.plugin, self.settings_for(url))

    def payloads(self, destination: Destination | None = None) -> list[dict[str, Any]]:
        """The payloads of the sample events that the plugin takes, at most a batch of them."""
        target = destination or self.destination()
        built: list[dict[str, Any]] = []
        for event in self.events:
            try:
                built.append(target.build_payload(copy.deepcopy(dict(event))))
            except (IgnoreEvent, PayloadValidationError):
                continue
        if not built:
            raise ConformanceFailure("sample-events", "build_payload took none of the sample events")
        return built[: target.spec.max_batch_items]

    # --- the rules -------------------------------------------------------------------------

    def check_all(self) -> None:
        """Every rule, in the order of :data:`RULES`."""
        self.check_one_result_per_payload()
        self.check_malformed_answers()
        self.check_one_request_per_batch()
        self.check_secrets_stay_secret()
        self.check_item_limit()
        self.check_deterministic_payloads()
        self.check_valid_events_never_crash()

    def check_one_result_per_payload(self) -> None:
        """Every scripted answer, sent for real, reads as None or one entry per payload."""
        with _client() as http, _Switchboard() as server:
            destination = self.destination(server.url)
            payloads = self.payloads(destination)
            for answer in self.answers:
                server.answer_with(answer)
                try:
                    response = destination.send_batch(payloads, http)
                except TransportError:
                    continue
                _check_statuses(
                    "one-result-per-payload",
                    destination,
                    response,
                    payloads,
                    f"the answer HTTP {answer.status} {answer.encoded_body()[:80]!r}",
                )

    def check_malformed_answers(self) -> None:
        """``parse_response`` on malformed bodies: no exception, None or a full MultiStatus."""
        destination = self.destination()
        payloads = self.payloads(destination)
        for status in MALFORMED_STATUSES:
            for body in self.malformed_bodies:
                response = HttpResponse(status=status, body=body, headers={"Content-Type": "application/json"})
                _check_statuses(
                    "malformed-answers", destination, response, payloads, f"HTTP {status} with body {body[:80]!r}"
                )

    def check_one_request_per_batch(self) -> None:
        """``send_batch`` makes exactly one request, whatever the answer (a dropped connection
        included): retrying is the core's job."""
        answers = (
            *self.answers,
            ScriptedResponse(status=500, body={"error": "retry me"}),
            ScriptedResponse(status=429, body={}, headers={"Retry-After": "0"}),
            ScriptedResponse(drop=True),
        )
        with _client() as http, _Switchboard() as server:
            destination = self.destination(server.url)
            payloads = self.payloads(destination)
            for answer in answers:
                server.answer_with(answer)
                try:
                    destination.send_batch(payloads, http)
                except TransportError:
                    pass
                except Exception as exc:
                    raise ConformanceFailure(
                        "one-request-per-batch",
                        f"send_batch raised {type(exc).__name__}: {exc} for HTTP {answer.status} "
                        "(return the response; only transport failures raise, as TransportError)",
                    ) from exc
                made = len(server.requests)
                what = "a dropped connection" if answer.drop else f"HTTP {answer.status}"
                if made != 1:
                    raise ConformanceFailure(
                        "one-request-per-batch", f"send_batch made {made} requests for one batch answered {what}"
                    )

    def check_secrets_stay_secret(self) -> None:
        """No secret setting's value in reprs, outcome records, dead letters or errors."""
        destination = self.destination()
        secrets = self._secret_values(destination)
        if not secrets:
            return
        places: list[tuple[str, str]] = [
            ("repr(settings)", repr(destination.settings)),
            ("str(settings)", str(destination.settings)),
            ("repr(destination_spec())", repr(destination.spec)),
        ]
        events = list(self.events)
        with _Switchboard() as server:
            for answer in (*self.answers, ScriptedResponse(drop=True)):
                server.answer_with(answer)
                dead: list[dict[str, Any]] = []
                outcomes = deliver_events(
                    events,
                    self.plugin,
                    self.settings_for(server.url),
                    error_handler={"max_retries": 1},
                    dead_letters=dead,
                    concurrency=1,
                )
                what = "a dropped connection" if answer.drop else f"HTTP {answer.status}"
                places.append((f"outcome records after {what}", orjson.dumps(outcomes).decode()))
                places.append((f"dead letters after {what}", orjson.dumps(dead).decode()))
        with _client() as http:
            try:
                self.destination(_CLOSED_PORT_URL).send_batch(self.payloads(destination), http)
            except Exception as exc:
                places.append(("the error of an unreachable endpoint", f"{exc!s} {exc!r}"))
        for place, text in places:
            for name, value in secrets.items():
                if value in text:
                    raise ConformanceFailure("secrets-stay-secret", f"the value of setting {name!r} appears in {place}")

    def check_item_limit(self) -> None:
        """An oversized payload fails 413 ``PAYLOAD_TOO_LARGE``, attempts 0, nothing sent."""
        destination = self.destination()
        spec = destination.spec
        limit = spec.max_item_bytes
        if limit is None:
            raise ConformanceFailure(
                "item-limit", f"destination_spec() of {spec.name!r} declares no max_item_bytes (every API has one)"
            )
        if spec.max_batch_bytes is not None and limit > spec.max_batch_bytes:
            raise ConformanceFailure(
                "item-limit", f"max_item_bytes {limit} is over max_batch_bytes {spec.max_batch_bytes}"
            )
        event = self._oversized_event(destination, limit)
        with ScriptedServer([ScriptedResponse(status=200, body={})]) as server:
            (outcome,) = deliver_events([event], self.plugin, self.settings_for(server.url), concurrency=1)
            sent = len(server.requests)
        got = (outcome["outcome"], outcome["status"], outcome["errortype"], outcome["attempts"], sent)
        if got != ("failed", 413, ErrorCode.PAYLOAD_TOO_LARGE.value, 0, 0):
            raise ConformanceFailure(
                "item-limit",
                f"a payload over {limit} bytes ended {got[0]} with status {got[1]} and {got[2]} after "
                f"{got[3]} attempts and {sent} requests, not failed 413 PAYLOAD_TOO_LARGE unsent",
            )

    def check_deterministic_payloads(self) -> None:
        """The same event twice gives the same payload (or the same refusal), and building does
        not alter the event."""
        destination = self.destination()
        for event in self.events:
            first_event = copy.deepcopy(dict(event))
            first = _build(destination, first_event)
            if first_event != dict(event):
                raise ConformanceFailure(
                    "deterministic-payloads", f"build_payload changed the {event['type']} event it was given"
                )
            second = _build(destination, copy.deepcopy(dict(event)))
            if first != second:
                raise ConformanceFailure(
                    "deterministic-payloads",
                    f"the {event['type']} event {event.get('messageId')!r} gave {first[:200]!r} then {second[:200]!r}",
                )

    def check_valid_events_never_crash(self) -> None:
        """Every event the core accepts (the samples, and :data:`MINIMAL_EVENTS`) is mapped,
        refused with ``PayloadValidationError`` or ignored with ``IgnoreEvent``."""
        destination = self.destination()
        for event in (*self.events, *MINIMAL_EVENTS):
            try:
                destination.build_payload(copy.deepcopy(dict(event)))
            except (IgnoreEvent, PayloadValidationError):
                continue
            except Exception as exc:
                raise ConformanceFailure(
                    "valid-events-never-crash",
                    f"build_payload raised {type(exc).__name__}: {exc} for {dict(event)!r} (raise "
                    "PayloadValidationError naming the field instead)",
                ) from exc

    # --- internals -------------------------------------------------------------------------

    def _secret_values(self, destination: Destination) -> dict[str, str]:
        table = self.settings_for(_CLOSED_PORT_URL)
        names = (
            list(self.secret_settings)
            if self.secret_settings is not None
            else [name for name in table if _SECRET_NAME.search(name)]
        )
        found = {name: str(table[name]) for name in names if isinstance(table.get(name), str)}
        settings = destination.settings
        if attrs.has(type(settings)):
            for field in attrs.fields(type(settings)):
                value = getattr(settings, field.name, None)
                if isinstance(value, Secret):
                    found[field.name] = value.reveal()
        return {name: value for name, value in found.items() if len(value) >= 4}

    def _oversized_event(self, destination: Destination, limit: int) -> Mapping[str, Any]:
        candidates: Iterator[Mapping[str, Any]]
        if self.oversized_event is not None:
            candidates = iter([self.oversized_event])
        else:
            padding = "x" * (limit + 1)
            candidates = (
                {
                    **event,
                    "properties": {**event.get("properties", {}), "padding": padding},
                    "traits": {**event.get("traits", {}), "padding": padding},
                    "name": event.get("name", "Page") + padding if event["type"] in ("page", "screen") else None,
                }
                for event in self.events
            )
        for candidate in candidates:
            event = {key: value for key, value in candidate.items() if value is not None}
            try:
                payload = destination.build_payload(copy.deepcopy(event))
            except (IgnoreEvent, PayloadValidationError):
                continue
            if len(orjson.dumps(payload, default=str)) > limit:
                return event
        raise ConformanceFailure(
            "item-limit",
            "no sample event could be made into a payload over max_item_bytes: set oversized_event "
            "to an event whose payload is bigger than the limit",
        )


def _build(destination: Destination, event: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(destination.build_payload(event), option=orjson.OPT_SORT_KEYS, default=str)
    except (IgnoreEvent, PayloadValidationError) as exc:
        return f"{type(exc).__name__}: {exc}".encode()


def _check_statuses(
    rule: str, destination: Destination, response: HttpResponse, payloads: Sequence[Any], what: str
) -> None:
    try:
        statuses = destination.parse_response(response, payloads)
    except Exception as exc:
        raise ConformanceFailure(rule, f"parse_response raised {type(exc).__name__}: {exc} for {what}") from exc
    if statuses is None:
        return
    if not isinstance(statuses, MultiStatusResponse):  # the facade raises first; kept for clarity
        raise ConformanceFailure(rule, f"parse_response returned {type(statuses).__name__} for {what}")
    unset = [index for index in range(len(payloads)) if statuses.get(index) is None]
    if len(statuses) != len(payloads) or unset:
        raise ConformanceFailure(
            rule,
            f"parse_response gave {len(statuses)} entries ({len(unset)} of the first {len(payloads)} unset) "
            f"for {len(payloads)} payloads, for {what}",
        )


class _Switchboard(ScriptedServer):
    """One loopback server for a whole check, its answer switched between requests (starting
    and stopping a server per answer would cost most of the kit's time)."""

    def __init__(self) -> None:
        self._answer = ScriptedResponse(status=200, body={})
        super().__init__(lambda request: self._answer)

    def answer_with(self, answer: ScriptedResponse) -> None:
        """Answer every request with ``answer`` from now on, and forget earlier requests."""
        self._answer = answer
        self.requests.clear()


@contextlib.contextmanager
def _client() -> Iterator[HttpClient]:
    http = HttpClient(HttpSettings(connect_timeout_s=2.0, read_timeout_s=5.0, pool_size=1))
    try:
        yield http
    finally:
        http.close()


class DestinationConformance:
    """The conformance kit as a base class: subclass it in a plugin's tests and pytest runs one
    test per rule of :data:`RULES`.

    Set ``plugin`` (the hook module) and ``settings`` (a ``[destination.settings]`` table for
    tests); the kit points ``endpoint_setting`` (default ``"endpoint"``) at its loopback servers,
    or override :meth:`settings_for`. Optional: ``sample_events``, ``extra_answers`` (the
    service's own typical answers), ``secret_settings`` (names of settings that must never leak;
    by default every ``Secret`` field and every key naming a key, token, secret or password),
    ``oversized_event``.

    Example::

        from deliverator.testing import DestinationConformance
        import deliverator_example.plugin


        class TestConformance(DestinationConformance):
            plugin = deliverator_example.plugin
            settings = {"token": "kit-token-value"}
    """

    plugin: ClassVar[object]
    settings: ClassVar[Mapping[str, Any]] = {}
    endpoint_setting: ClassVar[str] = "endpoint"
    sample_events: ClassVar[Sequence[Mapping[str, Any]]] = SAMPLE_EVENTS
    extra_answers: ClassVar[Sequence[ScriptedResponse]] = ()
    secret_settings: ClassVar[Sequence[str] | None] = None
    oversized_event: ClassVar[Mapping[str, Any] | None] = None

    def settings_for(self, url: str) -> Mapping[str, Any]:
        """The settings table pointing the plugin at ``url`` (a loopback server of the kit)."""
        return {**self.settings, self.endpoint_setting: url}

    def conformance(self) -> Conformance:
        """The checks, configured from this class."""
        return Conformance(
            plugin=self.plugin,
            settings_for=self.settings_for,
            events=self.sample_events,
            answers=(*TYPICAL_ANSWERS, *self.extra_answers),
            secret_settings=self.secret_settings,
            oversized_event=self.oversized_event,
        )

    def test_conformance_one_result_per_payload(self) -> None:
        """Rule ``one-result-per-payload``."""
        self.conformance().check_one_result_per_payload()

    def test_conformance_malformed_answers(self) -> None:
        """Rule ``malformed-answers``."""
        self.conformance().check_malformed_answers()

    def test_conformance_one_request_per_batch(self) -> None:
        """Rule ``one-request-per-batch``."""
        self.conformance().check_one_request_per_batch()

    def test_conformance_secrets_stay_secret(self) -> None:
        """Rule ``secrets-stay-secret``."""
        self.conformance().check_secrets_stay_secret()

    def test_conformance_item_limit(self) -> None:
        """Rule ``item-limit``."""
        self.conformance().check_item_limit()

    def test_conformance_deterministic_payloads(self) -> None:
        """Rule ``deterministic-payloads``."""
        self.conformance().check_deterministic_payloads()

    def test_conformance_valid_events_never_crash(self) -> None:
        """Rule ``valid-events-never-crash``."""
        self.conformance().check_valid_events_never_crash()
