"""Issue 9, row 8: a canary secret fed through every path that has leaked one, then looked for,
plain, as the Basic-auth base64 a request carries, and URL-encoded, in everything the runs
printed or wrote.

The service echoes the request's headers back in every kind of answer deliverator records:
retried 500s, whole-request 400s, per-item 207 errors, a body too large to keep and one too
deep to encode; a response filter's error message quotes the echo and a failing predicate
looks it up; ``check`` gets the echo too; config errors quote endpoints that carry the canary
in their user-info and query string.
"""

from __future__ import annotations

import base64
import itertools
import urllib.parse
from pathlib import Path

import orjson
import pytest

from deliverator._config import load_config
from deliverator._session import http_client, open_session
from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.services import jsonl, track
from tests.support import cli_env, run_cli

SITE = "site-canary"
CANARY = "cAn4ry/k3y+x=Qz9"
FORMS = {
    "plain": CANARY,
    "basic-auth base64": base64.b64encode(f"{SITE}:{CANARY}".encode()).decode().rstrip("="),
    "url-encoded": urllib.parse.quote(CANARY, safe=""),
    "form-encoded": urllib.parse.quote_plus(CANARY),
}

CONFIG = """
[destination]
name = "customerio"

[destination.settings]
site_id = "{site}"
api_key = "${{CANARY_KEY}}"
endpoint = "{url}"

[delivery]
batch_size = 4
concurrency = 1
linger_s = 0.05

[error_handler]
max_retries = 1
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]

[[error_handler.response_filters]]
http_codes = [409]
action = "FAIL"
error_message = "the service said: {{{{ response.echo.authorization }}}} / {{{{ response.echo }}}}"

[[error_handler.response_filters]]
predicate = "{{{{ (response|attr(response.echo.authorization)) > 1 }}}}"
action = "FAIL"
"""


def _echo(request: RecordedRequest) -> dict[str, object]:
    return {key.lower(): value for key, value in request.headers.items()}


class EchoingService:
    """Answers each batch with the next kind of answer, every one quoting the request's headers."""

    def __init__(self) -> None:
        self._kinds = itertools.cycle(["retry", "whole", "per-item", "conflict", "huge", "deep", "ok"])
        self.served: list[str] = []
        self.server = ScriptedServer(self._answer)

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        if request.path.endswith("/accounts/region"):  # deliverator check
            return ScriptedResponse(status=500, body={"message": f"no: {_echo(request)}", "echo": _echo(request)})
        kind = next(self._kinds)
        self.served.append(kind)
        echo = _echo(request)
        auth = str(echo.get("authorization"))
        items = orjson.loads(request.body)["batch"]
        if kind == "retry":
            return ScriptedResponse(status=500, body={"message": f"overloaded, you sent {auth}", "echo": echo})
        if kind == "whole":
            return ScriptedResponse(status=400, body={"error": f"rejected {auth}", "echo": echo})
        if kind == "per-item":
            errors = [
                {"batch_index": i, "reason": "invalid", "field": auth, "message": auth} for i in range(len(items))
            ]
            return ScriptedResponse(status=207, body={"errors": errors, "echo": echo})
        if kind == "conflict":
            return ScriptedResponse(status=409, body={"echo": echo})
        if kind == "huge":
            return ScriptedResponse(status=400, body={"message": auth, "echo": echo, "pad": "p" * 20_000 + auth})
        if kind == "deep":
            return ScriptedResponse(
                status=400, body=b'{"echo": "' + auth.encode() + b'", "d": ' + b"[" * 600 + b"]" * 600 + b"}"
            )
        return ScriptedResponse(status=200, body={"echo": echo})


def _leaks(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form in text]


def test_the_canary_never_appears_in_any_output_or_file(tmp_path: Path) -> None:
    env = cli_env(extra={"CANARY_KEY": CANARY})
    outputs: list[str] = []
    service = EchoingService()
    with service.server:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(site=SITE, url=service.server.url))
        source = tmp_path / "events.jsonl"
        source.write_bytes(jsonl([track(i) for i in range(40)]))
        args = ["deliver", str(source), "--config", str(config), "--no-progress"]
        outcomes = ["--results", str(tmp_path / "out.jsonl"), "--dead-letter", str(tmp_path / "dead.jsonl")]
        deliver = run_cli([*args, *outcomes], env)
        check = run_cli(["check", "--config", str(config)], env)
        requests = list(service.server.requests)
        outputs += [deliver.stdout, deliver.stderr, check.stdout, check.stderr]
        # The canary did go out, and came back in every kind of answer.
        assert any(FORMS["basic-auth base64"] in str(r.headers.get("Authorization")) for r in requests)
        assert {"retry", "whole", "per-item", "conflict", "huge", "deep"} <= set(service.served)
        assert deliver.returncode == 1, deliver.stderr
        assert check.returncode == 1 and "credentials FAILED" in check.stdout
        assert "could not be evaluated" in deliver.stderr  # the predicate looked the echo up

        # Config errors that quote an endpoint carrying the canary in its user-info or query.
        for endpoint in (
            f"ftp://user:{FORMS['url-encoded']}@example.com/",
            f"https://example.com/x?api_key={FORMS['url-encoded']}",
            f"ftp://{FORMS['url-encoded']}@example.com/?token={FORMS['url-encoded']}",
        ):
            bad = tmp_path / "bad.toml"
            bad.write_text(CONFIG.format(site=SITE, url=endpoint))
            for args in (["check"], ["deliver", str(source), "--no-progress"]):
                proc = run_cli([*args, "--config", str(bad)], env)
                assert proc.returncode == 2, proc.stderr
                assert "endpoint" in proc.stderr
                outputs += [proc.stdout, proc.stderr]

    records = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert len(records) == 40
    assert {"failed", "delivered"} <= {record["outcome"] for record in records}
    assert any("********" in str(record["errormessage"]) for record in records)
    written = {"config.toml", "bad.toml", "events.jsonl"}  # the test's own inputs
    files = {
        path.name: path.read_bytes().decode("utf-8", "replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path.name not in written
    }
    assert "dead.jsonl" in files
    leaks = {name: _leaks(text) for name, text in [*files.items(), *(("output", o) for o in outputs)] if _leaks(text)}
    assert leaks == {}


@pytest.mark.parametrize("key", ["api_key", "token", "anything"])
def test_the_repr_of_a_parsed_configuration_shows_no_setting_value(tmp_path: Path, key: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[destination]\nname = "customerio"\n\n[destination.settings]\n{key} = "{CANARY}"\n')
    loaded = load_config(config)
    assert CANARY not in repr(loaded) and CANARY not in str(loaded)
    assert key in repr(loaded)


def test_the_loaded_session_shows_no_secret_in_any_repr(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(site=SITE, url="http://127.0.0.1:9").replace("${CANARY_KEY}", CANARY))
    loaded = load_config(config)
    session = open_session(loaded)
    shown = [repr(loaded), repr(session), repr(session.destination.settings), str(session.destination.settings)]
    shown.append(repr(http_client(loaded)))
    assert not [text for text in shown if _leaks(text)]
