"""Load-time checks and hook wrappers: a destination missing a required hook is refused before
any input is read (exit 2), and a wrapper registered on the run's plugin manager, however it
got there, sees every call (the lone-implementation fast path never bypasses it)."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import orjson
import pytest

from deliverator import DestinationSpec, HttpResponse, hookimpl
from deliverator.destination import REQUIRED_HOOKS, Destination
from deliverator.errors import PluginError
from tests.services import ExampleService
from tests.support import cli_env, run_cli, write_distribution

SPEC_SOURCE = """
import attrs
from deliverator import DestinationSpec, HttpResponse, hookimpl

@attrs.frozen
class Settings:
    endpoint: str = "http://127.0.0.1:9"

@hookimpl
def destination_spec():
    return DestinationSpec(name="partial", settings_class=Settings)

@hookimpl
def build_payload(event, settings):
    return dict(event)
"""


def test_a_destination_without_send_batch_exits_2_before_reading_input(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_distribution(
        site, "partial-dest", {"deliverator.destinations": {"partial": "partial_dest"}}, {"partial_dest": SPEC_SOURCE}
    )
    config = tmp_path / "config.toml"
    config.write_text('[destination]\nname = "partial"\n')
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "track", "userId": "u", "event": "e"}\n')
    proc = run_cli(["deliver", str(events), "--config", str(config)], cli_env(site))
    assert proc.returncode == 2, proc.stderr
    assert "send_batch" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "events.results.jsonl").exists()
    assert not (tmp_path / "events.dead-letter.jsonl").exists()


@pytest.mark.parametrize("missing", REQUIRED_HOOKS)
def test_each_required_hook_is_checked_when_a_destination_loads(missing: str) -> None:
    @hookimpl
    def destination_spec() -> DestinationSpec:
        return DestinationSpec(name="t", settings_class=dict)

    @hookimpl
    def build_payload(event: Any, settings: Any) -> dict[str, Any]:
        return {}

    @hookimpl
    def send_batch(payloads: Any, settings: Any, http: Any) -> HttpResponse:
        return HttpResponse(status=200)

    hooks = {"destination_spec": destination_spec, "build_payload": build_payload, "send_batch": send_batch}
    del hooks[missing]
    with pytest.raises(PluginError, match=rf"required hook {missing}\b"):
        Destination.from_plugins([("t", types.SimpleNamespace(**hooks))], {})


def test_a_wrapper_alone_does_not_count_as_an_implementation() -> None:
    class OnlyWraps:
        @hookimpl(wrapper=True)
        def send_batch(self, payloads: Any, settings: Any, http: Any) -> Any:
            return (yield)

    @hookimpl
    def destination_spec() -> DestinationSpec:
        return DestinationSpec(name="t", settings_class=dict)

    @hookimpl
    def build_payload(event: Any, settings: Any) -> dict[str, Any]:
        return {}

    plugin = types.SimpleNamespace(destination_spec=destination_spec, build_payload=build_payload)
    with pytest.raises(PluginError, match="send_batch"):
        Destination.from_plugins([("t", plugin), ("wraps", OnlyWraps())], {})


class Counter:
    """A wrapper that counts the build_payload calls it sees."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(wrapper=True)
    def build_payload(self, event: Any, settings: Any) -> Any:
        self.seen.append(event["messageId"])
        payload = yield
        return {**payload, "wrapped": True}


def test_a_wrapper_registered_on_destination_plugin_manager_sees_every_build_payload(
    example_plugin: types.ModuleType,
) -> None:
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    event = {"type": "track", "userId": "u", "event": "e", "messageId": "a"}
    assert "wrapped" not in destination.build_payload(event)  # the fast path, nothing wraps yet
    counter = Counter()
    destination.plugin_manager.register(counter, name="counter")
    assert destination.build_payload({**event, "messageId": "b"})["wrapped"] is True
    assert destination.build_payload({**event, "messageId": "c"})["wrapped"] is True
    assert counter.seen == ["b", "c"]
    destination.plugin_manager.unregister(name="counter")
    assert "wrapped" not in destination.build_payload({**event, "messageId": "d"})
    assert counter.seen == ["b", "c"]


def test_a_wrapper_from_an_extension_sees_every_call_of_a_cli_run(tmp_path: Path) -> None:
    # An extension entry point, loaded by the CLI, wraps build_payload: every outcome shows it.
    site = tmp_path / "site"
    write_distribution(
        site,
        "stamp-ext",
        {"deliverator.extensions": {"stamp": "stamp_ext"}},
        {
            "stamp_ext": (
                "from deliverator import hookimpl\n\n"
                "@hookimpl(wrapper=True)\n"
                "def build_payload(event, settings):\n"
                "    payload = yield\n"
                "    return {**payload, 'data': {**payload['data'], 'stamped': True}}\n"
            )
        },
    )
    write_distribution(
        site, "deliverator-example", {"deliverator.destinations": {"example": "deliverator_example.plugin"}}
    )
    config = tmp_path / "config.toml"
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(f'{{"type": "track", "userId": "u", "event": "e", "messageId": "m{i}"}}\n' for i in range(3))
    )
    with ExampleService() as service:
        config.write_text(
            f'[destination]\nname = "example"\n[destination.settings]\nendpoint = "{service.url}"\ntoken = "t"\n'
        )
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], cli_env(site))
    assert proc.returncode == 0, proc.stderr
    outcomes = [orjson.loads(line) for line in (tmp_path / "events.results.jsonl").read_bytes().splitlines()]
    assert [o["sent"]["data"] for o in outcomes] == [{"stamped": True}] * 3


def test_on_a_plain_pluggy_manager_every_call_goes_through_pluggy(example_plugin: types.ModuleType) -> None:
    import pluggy

    from deliverator import hookspecs

    pm = pluggy.PluginManager("deliverator")
    pm.add_hookspecs(hookspecs)
    pm.register(example_plugin, name="example")
    destination = Destination(pm, {"endpoint": "http://x", "token": "t"})
    counter = Counter()
    pm.register(counter, name="counter")  # this manager cannot tell the facade: no shortcut is taken
    assert destination.build_payload({"type": "track", "userId": "u", "event": "e", "messageId": "p"})["wrapped"]
    assert counter.seen == ["p"]
