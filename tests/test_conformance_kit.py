"""The conformance kit catches every rule it names: for each rule, a plugin that breaks it (the
docs' example plugin with one hook spoilt) fails with a message naming the rule, and the
unspoilt plugin passes (docs/example-plugin/tests runs the kit through its base class)."""

from __future__ import annotations

import types
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest

from deliverator import DestinationSpec, HttpClient, HttpResponse, MultiStatusResponse, hookimpl
from deliverator.testing import RULES, Conformance, ConformanceFailure, DestinationConformance

HOOKS = ("destination_spec", "build_payload", "send_batch", "parse_response")


def spoilt(example: types.ModuleType, **hooks: Any) -> types.SimpleNamespace:
    """The example plugin with some hooks replaced."""
    return types.SimpleNamespace(**{**{name: getattr(example, name) for name in HOOKS}, **hooks})


def kit(plugin: object, **options: Any) -> Conformance:
    def settings_for(url: str) -> dict[str, str]:
        return {"endpoint": url, "token": "kit-secret-token"}

    return Conformance(plugin=plugin, settings_for=settings_for, **options)


def broken(rule: str) -> Any:
    return pytest.raises(ConformanceFailure, match=f"conformance rule '{rule}' broken")


def test_the_example_plugin_keeps_every_rule(example_plugin: types.ModuleType) -> None:
    kit(example_plugin).check_all()


def test_the_failure_names_the_rule_and_what_it_asks() -> None:
    failure = ConformanceFailure("item-limit", "no limit")
    assert failure.rule == "item-limit"
    assert str(failure) == f"conformance rule 'item-limit' broken ({RULES['item-limit']}): no limit"


def test_the_base_class_runs_one_test_per_rule() -> None:
    tests = sorted(name for name in vars(DestinationConformance) if name.startswith("test_conformance_"))
    assert tests == sorted(f"test_conformance_{rule.replace('-', '_')}" for rule in RULES)


# --- one-result-per-payload ------------------------------------------------------------------


def test_a_short_multistatus_breaks_one_result_per_payload(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def parse_response(response: HttpResponse, payloads: Sequence[Any], settings: Any) -> MultiStatusResponse | None:
        if response.status != 200:
            return None
        statuses = MultiStatusResponse()
        for payload in payloads[1:]:  # forgets the first item
            statuses.push_success(status=200, sent=payload)
        return statuses

    with broken("one-result-per-payload"):
        kit(spoilt(example_plugin, parse_response=parse_response)).check_one_result_per_payload()


# --- malformed-answers ------------------------------------------------------------------------


def test_a_parser_that_trusts_the_body_breaks_malformed_answers(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def parse_response(response: HttpResponse, payloads: Sequence[Any], settings: Any) -> MultiStatusResponse | None:
        if response.status != 200:
            return None
        results = response.json()["results"]  # raises on a body that is not the expected object
        return MultiStatusResponse([{"status": r["status"]} for r in results])

    with broken("malformed-answers") as raised:
        kit(spoilt(example_plugin, parse_response=parse_response)).check_malformed_answers()
    assert "parse_response raised" in str(raised.value)


def test_a_parser_leaving_slots_unset_breaks_malformed_answers(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def parse_response(response: HttpResponse, payloads: Sequence[Any], settings: Any) -> MultiStatusResponse | None:
        return MultiStatusResponse() if not response.body.strip() else None

    with broken("malformed-answers"):
        kit(spoilt(example_plugin, parse_response=parse_response)).check_malformed_answers()


# --- one-request-per-batch --------------------------------------------------------------------


def test_a_send_batch_that_retries_breaks_one_request_per_batch(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse:
        response: HttpResponse = example_plugin.send_batch(payloads=payloads, settings=settings, http=http)
        if response.status >= 500:
            response = example_plugin.send_batch(payloads=payloads, settings=settings, http=http)
        return response

    with broken("one-request-per-batch") as raised:
        kit(spoilt(example_plugin, send_batch=send_batch)).check_one_request_per_batch()
    assert "made 2 requests" in str(raised.value)


def test_a_send_batch_raising_for_an_answer_breaks_one_request_per_batch(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse:
        response: HttpResponse = example_plugin.send_batch(payloads=payloads, settings=settings, http=http)
        if response.status == 429:
            raise RuntimeError("rate limited")
        return response

    with broken("one-request-per-batch"):
        kit(spoilt(example_plugin, send_batch=send_batch)).check_one_request_per_batch()


# --- secrets-stay-secret ----------------------------------------------------------------------


def test_a_payload_carrying_the_token_breaks_secrets_stay_secret(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def build_payload(event: Mapping[str, Any], settings: Any) -> dict[str, Any]:
        payload: dict[str, Any] = example_plugin.build_payload(event=event, settings=settings)
        return {**payload, "auth": settings.token.reveal()}

    with broken("secrets-stay-secret") as raised:
        kit(spoilt(example_plugin, build_payload=build_payload)).check_secrets_stay_secret()
    assert "'token'" in str(raised.value) and "kit-secret-token" not in str(raised.value)


@attrs.frozen
class PlainSettings:
    endpoint: str
    token: str  # not a Secret: its repr shows it


def test_a_settings_repr_showing_the_token_breaks_secrets_stay_secret(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def destination_spec() -> DestinationSpec:
        return attrs.evolve(example_plugin.destination_spec(), settings_class=PlainSettings)

    @hookimpl
    def send_batch(payloads: Sequence[Mapping[str, Any]], settings: Any, http: HttpClient) -> HttpResponse:
        return http.post(f"{settings.endpoint}/v1/batch", body=b"{}", headers={"Authorization": settings.token})

    plugin = spoilt(example_plugin, destination_spec=destination_spec, send_batch=send_batch)
    with broken("secrets-stay-secret") as raised:
        kit(plugin).check_secrets_stay_secret()
    assert "repr(settings)" in str(raised.value)


# --- item-limit -------------------------------------------------------------------------------


def test_no_item_limit_breaks_item_limit(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def destination_spec() -> DestinationSpec:
        return attrs.evolve(example_plugin.destination_spec(), max_item_bytes=None)

    with broken("item-limit") as raised:
        kit(spoilt(example_plugin, destination_spec=destination_spec)).check_item_limit()
    assert "declares no max_item_bytes" in str(raised.value)


def test_an_item_limit_over_the_batch_limit_breaks_item_limit(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def destination_spec() -> DestinationSpec:
        return attrs.evolve(example_plugin.destination_spec(), max_item_bytes=200_000)

    with broken("item-limit"):
        kit(spoilt(example_plugin, destination_spec=destination_spec)).check_item_limit()


# --- deterministic-payloads -------------------------------------------------------------------


def test_a_random_id_breaks_deterministic_payloads(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def build_payload(event: Mapping[str, Any], settings: Any) -> dict[str, Any]:
        payload: dict[str, Any] = example_plugin.build_payload(event=event, settings=settings)
        return {**payload, "id": str(uuid.uuid4())}

    with broken("deterministic-payloads"):
        kit(spoilt(example_plugin, build_payload=build_payload)).check_deterministic_payloads()


def test_altering_the_event_breaks_deterministic_payloads(example_plugin: types.ModuleType) -> None:
    @hookimpl
    def build_payload(event: dict[str, Any], settings: Any) -> dict[str, Any]:
        event.pop("timestamp", None)
        payload: dict[str, Any] = example_plugin.build_payload(event=event, settings=settings)
        return payload

    with broken("deterministic-payloads") as raised:
        kit(spoilt(example_plugin, build_payload=build_payload)).check_deterministic_payloads()
    assert "changed the" in str(raised.value)


# --- valid-events-never-crash -----------------------------------------------------------------


def test_a_mapping_that_assumes_optional_fields_breaks_valid_events_never_crash(
    example_plugin: types.ModuleType,
) -> None:
    @hookimpl
    def build_payload(event: Mapping[str, Any], settings: Any) -> dict[str, Any]:
        payload: dict[str, Any] = example_plugin.build_payload(event=event, settings=settings)
        return {**payload, "keys": sorted(event["properties"])}  # a KeyError on a minimal event

    with broken("valid-events-never-crash") as raised:
        kit(spoilt(example_plugin, build_payload=build_payload)).check_valid_events_never_crash()
    assert "KeyError" in str(raised.value)
