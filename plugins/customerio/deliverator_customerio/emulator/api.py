"""The Track API's behaviour, independent of sockets: one request in, one :class:`Answer` out.

Write requests (batch, entity) go through, in order: injected faults, Basic auth, the body
size limit, JSON parsing, per-item validation. The region check goes through auth only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any, Final

import attrs
import orjson

from deliverator import Clock, RealClock
from deliverator_customerio.emulator import answers
from deliverator_customerio.emulator.answers import Answer
from deliverator_customerio.emulator.faults import FaultDecision, FaultInjector, FaultKind, Faults
from deliverator_customerio.emulator.limits import MAX_BATCH_BYTES, MAX_ITEM_BYTES
from deliverator_customerio.emulator.store import Store
from deliverator_customerio.emulator.validation import ItemError, item_size_error, validate_item

BATCH_PATH: Final = "/api/v2/batch"
ENTITY_PATH: Final = "/api/v2/entity"
REGION_PATH: Final = "/api/v1/accounts/region"

REGION_URLS: Final = {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}


@attrs.frozen(kw_only=True)
class Account:
    """The one workspace the emulator serves: its credentials, region and workspace id."""

    site_id: str
    api_key: str = attrs.field(repr=False)
    region: str = attrs.field(default="us", validator=attrs.validators.in_(tuple(REGION_URLS)))
    environment_id: int = 1

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries this account's Basic credentials."""
        if not authorization:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        site_id, colon, api_key = decoded.partition(":")
        # Compare both parts in constant time, and both always, so timing says nothing.
        same_site = hmac.compare_digest(site_id.encode(), self.site_id.encode())
        same_key = hmac.compare_digest(api_key.encode(), self.api_key.encode())
        return bool(colon) and same_site and same_key


class TrackApi:
    """Answers Track API requests for one :class:`Account`, recording into a :class:`Store`.

    With ``fast`` the write endpoints skip per-item validation and bookkeeping: a body is
    parsed, its items counted and ``{}`` returned, so benchmarks measure the client.
    """

    def __init__(
        self, account: Account, store: Store, faults: Faults, fast: bool = False, clock: Clock | None = None
    ) -> None:
        self.account = account
        self.store = store
        self.fast = fast
        self._clock = clock or RealClock()
        self.injector = FaultInjector(faults, self._clock)
        self._routes: dict[str, tuple[str, Callable[[bytes, FaultDecision], Answer]]] = {
            BATCH_PATH: ("POST", self._batch_fast if fast else self._batch),
            ENTITY_PATH: ("POST", self._entity_fast if fast else self._entity),
        }

    def answer(self, method: str, target: str, authorization: str | None, body: bytes) -> Answer:
        """The answer to one request; ``target`` is the request line's path (query allowed)."""
        path = target.split("?", 1)[0]
        if path == REGION_PATH:
            if method != "GET":
                return answers.method_not_allowed(method, path, "GET")
            return self._region(authorization)
        route = self._routes.get(path)
        if route is None:
            return answers.not_found(method, path)
        allowed, handler = route
        if method != allowed:
            return answers.method_not_allowed(method, path, allowed)
        decision = self.injector.decide(target)
        if decision.latency_s:
            self._clock.sleep(decision.latency_s)
        faulted = _fault_answer(decision)
        if faulted is not None:
            return faulted
        if not self.account.accepts(authorization):
            return answers.unauthorized()
        answer = handler(body, decision)
        if decision.kind is FaultKind.LOSE_ANSWER:
            return answers.DROP
        return answer

    def _region(self, authorization: str | None) -> Answer:
        if not self.account.accepts(authorization):
            return answers.unauthorized()
        account = self.account
        return answers.region(REGION_URLS[account.region], account.region, account.environment_id)

    def _batch(self, body: bytes, decision: FaultDecision) -> Answer:
        if len(body) >= MAX_BATCH_BYTES:
            return answers.too_large(len(body), MAX_BATCH_BYTES, "the batch request", must_be_smaller=True)
        batch, problem = _parse_batch(body)
        if problem is not None:
            return answers.invalid_request([problem])
        errors: list[tuple[int, ItemError]] = []
        received: list[tuple[Any, bool]] = []
        for index, item in enumerate(batch):
            item_errors = _item_errors(item)
            errors.extend((index, error) for error in item_errors)
            received.append((item, not item_errors))
        self.store.receive(received)
        if errors:
            return answers.multi_status(errors, as_string=decision.string_bodies)
        return answers.accepted(as_string=decision.string_bodies)

    def _entity(self, body: bytes, decision: FaultDecision) -> Answer:
        if len(body) > MAX_ITEM_BYTES:
            return answers.too_large(len(body), MAX_ITEM_BYTES, "the entity request", must_be_smaller=False)
        item, problem = _parse(body)
        if problem is not None:
            return answers.invalid_request([problem])
        errors = validate_item(item)
        self.store.receive([(item, not errors)])
        if errors:
            return answers.invalid_request(errors)
        return answers.accepted(as_string=decision.string_bodies)

    def _batch_fast(self, body: bytes, decision: FaultDecision) -> Answer:
        if len(body) >= MAX_BATCH_BYTES:
            return answers.too_large(len(body), MAX_BATCH_BYTES, "the batch request", must_be_smaller=True)
        batch, problem = _parse_batch(body)
        if problem is not None:
            return answers.invalid_request([problem])
        self.store.count_items(len(batch))
        return answers.accepted(as_string=decision.string_bodies)

    def _entity_fast(self, body: bytes, decision: FaultDecision) -> Answer:
        if len(body) > MAX_ITEM_BYTES:
            return answers.too_large(len(body), MAX_ITEM_BYTES, "the entity request", must_be_smaller=False)
        _, problem = _parse(body)
        if problem is not None:
            return answers.invalid_request([problem])
        self.store.count_items(1)
        return answers.accepted(as_string=decision.string_bodies)


def _fault_answer(decision: FaultDecision) -> Answer | None:
    """The answer a fault gives instead of the normal one, or None to carry on."""
    kind = decision.kind
    if kind is FaultKind.DROP:
        return answers.DROP
    if kind is FaultKind.RATE_LIMITED:
        return answers.rate_limited(decision.retry_after_s)
    if kind is FaultKind.SERVER_ERROR:
        return answers.server_error(decision.status)
    if kind is FaultKind.REDIRECT:
        return answers.redirect(decision.status, decision.location)
    return None


def _parse(body: bytes) -> tuple[Any, ItemError | None]:
    if not body.strip():
        return None, ItemError("required", "", "the request body is empty: expected JSON")
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError as exc:
        return None, ItemError("invalid", "", f"the request body is not valid JSON: {exc}")


def _parse_batch(body: bytes) -> tuple[list[Any], ItemError | None]:
    value, problem = _parse(body)
    if problem is not None:
        return [], problem
    if not isinstance(value, dict):
        return [], ItemError("invalid", "", 'the request body must be a JSON object {"batch": [...]}')
    batch = value.get("batch")
    if batch is None:
        return [], ItemError("required", "batch", "batch is required: an array of items")
    if not isinstance(batch, list):
        return [], ItemError("invalid", "batch", "batch must be an array of items")
    return batch, None


def _item_errors(item: Any) -> list[ItemError]:
    size_error = item_size_error(len(orjson.dumps(item)))
    if size_error is not None:
        return [size_error]
    return validate_item(item)
