"""One test per hook of the contract, named ``test_hook_<name>`` (the meta-test in
test_hook_contract.py fails for a hook without one): each proves the core calls the hook
where the contract says, with keyword arguments, and uses what it returns."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import attrs
import orjson

from deliverator import (
    Action,
    CheckResult,
    Classification,
    DestinationSpec,
    HttpClient,
    HttpResponse,
    MultiStatusResponse,
    hookimpl,
)
from deliverator.testing import ScriptedResponse, ScriptedServer, deliver_events, load_destination
from tests.support import cli_env, run_cli, write_distribution


@attrs.frozen
class Settings:
    endpoint: str = "http://127.0.0.1:9"


def plugin(**hooks: Any) -> types.SimpleNamespace:
    @hookimpl
    def destination_spec() -> DestinationSpec:
        return DestinationSpec(name="hooks", settings_class=Settings, max_batch_items=2, max_item_bytes=200)

    @hookimpl
    def build_payload(event: Any, settings: Settings) -> dict[str, Any]:
        return {"id": event["messageId"]}

    @hookimpl
    def send_batch(payloads: Any, settings: Settings, http: HttpClient) -> HttpResponse:
        return http.post(f"{settings.endpoint}/batch", body=orjson.dumps(list(payloads)))

    return types.SimpleNamespace(
        **{"destination_spec": destination_spec, "build_payload": build_payload, "send_batch": send_batch, **hooks}
    )


def events(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "track", "userId": "u", "event": "e", "messageId": f"m{i}", **extra} for i in range(count)]


def test_hook_destination_spec() -> None:
    # The spec's limits shape the run: at most 2 items per request, items over 200 bytes refused.
    with ScriptedServer([ScriptedResponse(status=200)]) as server:
        outcomes = deliver_events(
            [*events(3), {**events(1)[0], "messageId": "x" * 300}], plugin(), {"endpoint": server.url}, batch_size=50
        )
    # Two requests may be in flight at once, so they can arrive in either order.
    assert sorted(len(r.json()) for r in server.requests) == [1, 2]
    assert [(o["outcome"], o["status"]) for o in outcomes][-1] == ("failed", 413)
    assert load_destination(plugin()).spec.name == "hooks"


def test_hook_build_payload() -> None:
    @hookimpl
    def build_payload(settings: Settings, event: Any) -> dict[str, Any]:  # keyword arguments: any order
        return {"id": event["messageId"], "at": settings.endpoint}

    with ScriptedServer([ScriptedResponse(status=200)]) as server:
        outcomes = deliver_events(events(2), plugin(build_payload=build_payload), {"endpoint": server.url})
    assert [o["sent"] for o in outcomes] == [{"id": "m0", "at": server.url}, {"id": "m1", "at": server.url}]
    assert server.requests[0].json() == [o["sent"] for o in outcomes]


def test_hook_send_batch() -> None:
    calls: list[int] = []

    @hookimpl
    def send_batch(payloads: Any, settings: Settings, http: HttpClient) -> HttpResponse:
        calls.append(len(payloads))
        return http.post(f"{settings.endpoint}/batch", body=orjson.dumps(list(payloads)))

    with ScriptedServer([ScriptedResponse(status=200)]) as server:
        outcomes = deliver_events(events(4), plugin(send_batch=send_batch), {"endpoint": server.url}, concurrency=1)
    assert calls == [2, 2]
    assert [r.json() for r in server.requests] == [[{"id": "m0"}, {"id": "m1"}], [{"id": "m2"}, {"id": "m3"}]]
    assert {o["outcome"] for o in outcomes} == {"delivered"}


def test_hook_parse_response() -> None:
    statuses_seen: list[int] = []

    @hookimpl
    def parse_response(response: HttpResponse, payloads: Any, settings: Settings) -> MultiStatusResponse | None:
        statuses_seen.append(response.status)
        if response.status != 400:
            return None
        result = MultiStatusResponse()
        result.push_error(status=400, errormessage="refused", sent=payloads[0])
        result.push_success(status=200, sent=payloads[1])
        return result

    with ScriptedServer([ScriptedResponse(status=400, body={"failed": [0]})]) as server:
        outcomes = deliver_events(events(2), plugin(parse_response=parse_response), {"endpoint": server.url})
    assert statuses_seen == [400]  # an error status reaches parse_response too
    assert [(o["outcome"], o["status"]) for o in outcomes] == [("failed", 400), ("delivered", 200)]


def test_hook_classify_error() -> None:
    @hookimpl
    def classify_error(response: HttpResponse | None, error: BaseException | None, settings: Settings) -> Any:
        if response is not None and response.status == 409:
            return Classification(action=Action.IGNORE, errormessage="already there")
        return None

    with ScriptedServer([ScriptedResponse(status=409)]) as server:
        outcomes = deliver_events(events(2), plugin(classify_error=classify_error), {"endpoint": server.url})
    assert [(o["outcome"], o["errormessage"]) for o in outcomes] == [("ignored", "already there")] * 2


def test_hook_check_credentials() -> None:
    @hookimpl
    def check_credentials(settings: Settings, http: HttpClient) -> CheckResult:
        response = http.get(f"{settings.endpoint}/me")
        return CheckResult(ok=response.status == 200, message=f"HTTP {response.status}")

    with ScriptedServer([ScriptedResponse(status=200)]) as server:
        target = load_destination(plugin(check_credentials=check_credentials), {"endpoint": server.url})
        http = HttpClient()
        try:
            assert target.check_credentials(http) == CheckResult(ok=True, message="HTTP 200")
            assert load_destination(plugin()).check_credentials(http) is None
        finally:
            http.close()
    assert [r.path for r in server.requests] == ["/me"]


DEMO_PLUGIN = '''
import contextlib, pathlib, tempfile
from deliverator import DemoSetup, hookimpl
from deliverator.testing import ScriptedResponse, ScriptedServer
from deliverator_example.plugin import build_payload, destination_spec, parse_response, send_batch

@hookimpl
def demo_environment():
    @contextlib.contextmanager
    def environment():
        answer = ScriptedResponse(status=200, body={"results": [{"status": 200}]})
        with ScriptedServer([answer]) as server:
            events = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
            events.write_text('{"type": "track", "userId": "u", "event": "e", "messageId": "d-1"}\\n')
            yield DemoSetup(settings={"endpoint": server.url, "token": "demo-token"}, events_path=events,
                            description="a scripted stand-in", received=lambda: len(server.requests))
    return environment()
'''

COMMAND_PLUGIN = '''
import click
from deliverator import hookimpl
from deliverator_example.plugin import build_payload, destination_spec, send_batch

@hookimpl
def register_commands(cli):
    @cli.command(name="hooks-hello")
    def hello():
        """Say hello."""
        click.echo("hello from a plugin command")
'''


def test_hook_demo_environment(tmp_path: Path) -> None:
    site = tmp_path / "site"
    entry_points = {"deliverator.destinations": {"demodest": "demo_dest"}}
    write_distribution(site, "demo-dest", entry_points, {"demo_dest": DEMO_PLUGIN})
    proc = run_cli(["demo", "--output", str(tmp_path / "out"), "--no-progress"], cli_env(site, allow="demo-dest"))
    assert proc.returncode == 0, proc.stderr
    assert "a scripted stand-in" in proc.stdout
    (outcome,) = [json.loads(line) for line in next((tmp_path / "out").glob("*results*")).read_text().splitlines()]
    assert outcome["outcome"] == "delivered"


def test_hook_register_commands(tmp_path: Path) -> None:
    site = tmp_path / "site"
    entry_points = {"deliverator.destinations": {"cmddest": "command_dest"}}
    write_distribution(site, "command-dest", entry_points, {"command_dest": COMMAND_PLUGIN})
    proc = run_cli(["hooks-hello"], cli_env(site, allow="command-dest"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from a plugin command"
