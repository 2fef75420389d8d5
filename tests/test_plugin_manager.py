"""The facade over the PluginManager: precedence, keyword calls, misspelt hooks."""

from __future__ import annotations

import types
from typing import Any

import attrs
import pytest

from deliverator import Action, Classification, DestinationSpec, HttpResponse, hookimpl
from deliverator.destination import Destination
from deliverator.errors import ConfigError, PluginError


@attrs.frozen
class Settings:
    url: str


def make_plugin(**hooks: Any) -> types.SimpleNamespace:
    """A destination with the three required hooks, any of them replaced by ``hooks``."""

    @hookimpl
    def destination_spec() -> DestinationSpec:
        return DestinationSpec(name="t", settings_class=Settings)

    @hookimpl
    def build_payload(event: Any, settings: Any) -> dict[str, Any]:
        return dict(event)

    @hookimpl
    def send_batch(payloads: Any, settings: Any, http: Any) -> HttpResponse:
        return HttpResponse(status=200)

    required = {"destination_spec": destination_spec, "build_payload": build_payload, "send_batch": send_batch}
    return types.SimpleNamespace(**{**required, **hooks})


def test_a_misspelt_hook_is_an_error_naming_it() -> None:
    @hookimpl
    def build_paylod(event: Any, settings: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(PluginError, match="build_paylod"):
        Destination.from_plugins([("typo", make_plugin(build_paylod=build_paylod))], {"url": "x"})


def test_settings_are_validated_by_the_plugin_class() -> None:
    with pytest.raises(ConfigError, match=r"destination.settings: unknown key 'urll'"):
        Destination.from_plugins([("t", make_plugin())], {"urll": "x"})


def test_core_defaults_classify_when_nobody_else_does() -> None:
    destination = Destination.from_plugins([("t", make_plugin())], {"url": "x"})
    assert destination.classify(HttpResponse(status=503)).action is Action.RETRY
    assert destination.classify(HttpResponse(status=429)).action is Action.RATE_LIMITED
    assert destination.classify(HttpResponse(status=404)).action is Action.FAIL
    assert destination.classify(HttpResponse(status=501)).action is Action.FAIL
    assert destination.classify(HttpResponse(status=204)).action is Action.SUCCESS


def test_a_redirect_is_never_a_delivery() -> None:
    destination = Destination.from_plugins([("t", make_plugin())], {"url": "x"})
    result = destination.classify(HttpResponse(status=302, headers={"Location": "https://elsewhere"}))
    assert result.action is Action.FAIL
    assert "redirected" in (result.errormessage or "") and "https://elsewhere" in (result.errormessage or "")


def test_the_destination_overrides_the_defaults_and_the_error_handler_overrides_both() -> None:
    @hookimpl
    def classify_error(response: Any, error: Any, settings: Any) -> Classification | None:
        return Classification(action=Action.IGNORE) if response is not None and response.status == 404 else None

    class Handler:
        @hookimpl(tryfirst=True)
        def classify_error(self, response: Any, error: Any, settings: Any) -> Classification | None:
            return (
                Classification(action=Action.RETRY)
                if response is not None and response.status == 404 and response.body == b"later"
                else None
            )

    destination = Destination.from_plugins([("t", make_plugin(classify_error=classify_error))], {"url": "x"})
    assert destination.classify(HttpResponse(status=404)).action is Action.IGNORE
    destination.add_plugin(Handler(), "handler")
    assert destination.classify(HttpResponse(status=404, body=b"later")).action is Action.RETRY
    assert destination.classify(HttpResponse(status=404)).action is Action.IGNORE
    assert destination.classify(HttpResponse(status=500)).action is Action.RETRY


def test_hooks_are_always_called_with_keyword_arguments() -> None:
    seen: dict[str, Any] = {}

    @hookimpl
    def build_payload(settings: Any, event: Any) -> dict[str, Any]:  # order differs from the spec on purpose
        seen.update(event=event, settings=settings)
        return {"ok": True}

    destination = Destination.from_plugins([("t", make_plugin(build_payload=build_payload))], {"url": "x"})
    assert destination.build_payload({"type": "track"}) == {"ok": True}
    assert seen["event"] == {"type": "track"}
    assert seen["settings"] == Settings(url="x")


def test_a_plugin_without_destination_spec_is_refused() -> None:
    with pytest.raises(PluginError, match="destination_spec"):
        Destination.from_plugins([("empty", types.SimpleNamespace())], {})


def test_a_wrapper_from_an_extension_sees_every_build_payload_call() -> None:
    calls: list[str] = []

    @hookimpl
    def build_payload(event: Any, settings: Any) -> dict[str, Any]:
        return {"id": event["messageId"]}

    class Enricher:
        @hookimpl(wrapper=True)
        def build_payload(self, event: Any, settings: Any) -> Any:
            calls.append(event["messageId"])
            payload = yield
            return {**payload, "enriched": True}

    destination = Destination.from_plugins([("t", make_plugin(build_payload=build_payload))], {"url": "x"})
    assert destination.build_payload({"messageId": "a"}) == {"id": "a"}
    destination.add_plugin(Enricher(), "enricher")
    assert destination.build_payload({"messageId": "b"}) == {"id": "b", "enriched": True}
    assert calls == ["b"]


def test_a_hook_with_an_argument_the_spec_lacks_is_an_error_naming_it() -> None:
    @hookimpl
    def build_payload(event: Any, settings: Any, extra: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(PluginError, match="extra"):
        Destination.from_plugins([("odd", make_plugin(build_payload=build_payload))], {"url": "x"})
