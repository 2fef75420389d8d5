"""``deliverator.testing.deliver_events``: a whole delivery in-process, as the CLI composes it,
returning the outcome records (and the guide's example of it runs as written)."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import pytest

from deliverator import ConfigError
from deliverator.testing import FakeClock, ScriptedResponse, ScriptedServer, deliver_events, load_destination
from tests.support import REPO

TRACK = {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "m-1"}


def test_outcomes_come_back_in_input_order_with_invalid_records_failed(example_plugin: types.ModuleType) -> None:
    events: list[Any] = [TRACK, "not json", {**TRACK, "messageId": "m-2"}]
    with ScriptedServer([ScriptedResponse(status=200, body={"results": [{"status": 200}] * 2})]) as server:
        outcomes = deliver_events(events, example_plugin, {"endpoint": server.url, "token": "t0ken"})
    assert [(o["index"], o["outcome"], o["status"]) for o in outcomes] == [
        (0, "delivered", 200),
        (1, "failed", 400),
        (2, "delivered", 200),
    ]
    assert len(server.requests) == 1


def test_retries_run_on_a_virtual_clock_and_dead_letters_are_returned(example_plugin: types.ModuleType) -> None:
    clock = FakeClock()
    dead: list[dict[str, Any]] = []
    minute = [{"type": "constant", "backoff_time_in_seconds": 60}]
    with ScriptedServer([ScriptedResponse(status=503)]) as server:
        (outcome,) = deliver_events(
            [TRACK],
            example_plugin,
            {"endpoint": server.url, "token": "t0ken"},
            error_handler={"max_retries": 2, "backoff_strategies": minute},
            clock=clock,
            dead_letters=dead,
        )
    assert (outcome["outcome"], outcome["status"], outcome["attempts"]) == ("failed", 503, 3)
    assert clock.monotonic() >= 120  # two waits of a minute, in no real time
    assert [d["index"] for d in dead] == [0]


def test_response_filters_apply_as_in_a_config_file(example_plugin: types.ModuleType) -> None:
    filters = [{"http_codes": [418], "action": "IGNORE", "error_message": "a teapot"}]
    with ScriptedServer([ScriptedResponse(status=418)]) as server:
        (outcome,) = deliver_events(
            [TRACK], example_plugin, {"endpoint": server.url, "token": "t"}, error_handler={"response_filters": filters}
        )
    assert (outcome["outcome"], outcome["errormessage"]) == ("ignored", "a teapot")


def test_delivery_keys_are_validated_like_the_config_file(example_plugin: types.ModuleType) -> None:
    with pytest.raises(ConfigError, match="batch_sise"):
        deliver_events([TRACK], example_plugin, {"endpoint": "http://127.0.0.1:9", "token": "t"}, batch_sise=3)


def test_batch_size_from_the_delivery_keys(example_plugin: types.ModuleType) -> None:
    with ScriptedServer([ScriptedResponse(status=200, body={"results": [{"status": 200}] * 2})]) as server:
        deliver_events(
            [{**TRACK, "messageId": f"m-{i}"} for i in range(4)],
            example_plugin,
            {"endpoint": server.url, "token": "t"},
            batch_size=2,
        )
    assert [len(r.json()["items"]) for r in server.requests] == [2, 2]


def test_load_destination_gives_the_facade_with_extra_plugins(example_plugin: types.ModuleType) -> None:
    class Stamp:
        from deliverator import hookimpl

        @hookimpl(wrapper=True)
        def build_payload(self, event: Any, settings: Any) -> Any:
            payload = yield
            return {**payload, "stamped": True}

    target = load_destination(example_plugin, {"endpoint": "http://x", "token": "t"}, plugins=[Stamp()])
    assert target.build_payload(TRACK)["stamped"] is True


def test_the_guides_deliver_events_example_runs(example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = (REPO / "docs" / "writing-a-destination.md").read_text()
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", guide, flags=re.S) if "deliver_events(" in b]
    monkeypatch.syspath_prepend(str(example_site))
    exec(compile(example, "writing-a-destination.md", "exec"), {})
