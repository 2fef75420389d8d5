"""Issue 9, rows 2, 4, 5 and the TLS half of 9: servers that nest, flood, drip or cannot be
verified, met through ``deliverator deliver`` and ``deliverator check`` in real processes."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import trustme

from deliverator._recorded import MAX_BODY_BYTES
from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tests.hostile import (
    RawServer,
    Talker,
    deep_json,
    drip_body,
    drip_headers,
    drip_tls_handshake,
    endless_continue,
    outcome_records,
    run_cli_measured,
)
from tests.services import jsonl, track
from tests.support import cli_env, run_cli

CONFIG = """
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "${{EXAMPLE_TOKEN}}"

[delivery]
batch_size = 50
concurrency = 2
linger_s = 0.05
{delivery}

[error_handler]
max_retries = 1
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok-123-secret"})


def deliver(
    tmp_path: Path,
    env: dict[str, str],
    url: str,
    events: int,
    delivery: str = "",
    input_bytes: bytes | None = None,
    config: str = CONFIG,
) -> tuple[int, str, list[dict[str, object]], int]:
    """Run ``deliver``; returns the exit code, stderr, the outcome records and the peak RSS (KiB)."""
    path = tmp_path / "config.toml"
    path.write_text(config.format(url=url, delivery=delivery))
    source = tmp_path / "events.jsonl"
    source.write_bytes(input_bytes if input_bytes is not None else jsonl([track(i) for i in range(events)]))
    results = tmp_path / "out.jsonl"
    proc, peak = run_cli_measured(
        ["deliver", str(source), "--config", str(path), "--no-progress", "--results", str(results)], env
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr, outcome_records(results), peak


# --- row 2: a body nested past what orjson writes ------------------------------------------


def _per_item_results_with_a_deep_body(request: RecordedRequest) -> ScriptedResponse:
    items = orjson.loads(request.body)["items"]
    deep = deep_json(600).decode()
    return ScriptedResponse(
        status=200, body='{"results": [' + ",".join(f'{{"status": 200, "deep": {deep}}}' for _ in items) + "]}"
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_per_item_results_with_a_deep_body, id="200-per-item"),
        pytest.param(lambda request: ScriptedResponse(status=400, body=deep_json(600)), id="400-whole-request"),
        pytest.param(lambda request: ScriptedResponse(status=503, body=deep_json(1000)), id="503-retried"),
    ],
)
def test_a_body_nested_600_levels_deep_is_recorded_as_a_note_and_every_item_has_its_outcome(
    tmp_path: Path, env: dict[str, str], answer: object
) -> None:
    with ScriptedServer(answer) as server:  # type: ignore[arg-type]  # the parametrized responders
        code, stderr, records, _ = deliver(tmp_path, env, server.url, 120)
    assert sorted(record["index"] for record in records) == list(range(120))  # type: ignore[type-var]
    for record in records:
        body = record["body"]
        assert isinstance(body, dict) and set(body) == {"note", "text"}, body
        assert "nested more than 254 levels" in body["note"]
        assert "[[[[" in body["text"] and len(body["text"]) <= MAX_BODY_BYTES
    assert code in (0, 1), stderr


# --- row 4: a 9 MB error body for a batch of 250 -------------------------------------------


def test_a_9_mb_error_body_is_kept_once_per_item_as_4_kb_not_copied_whole(tmp_path: Path, env: dict[str, str]) -> None:
    huge = orjson.dumps({"error": "bad batch", "detail": ["x" * 1000] * 9000})  # 9 MB of JSON
    assert len(huge) > 9_000_000
    with ScriptedServer([ScriptedResponse(status=400, body=huge)]) as server:
        code, _, records, peak_kb = deliver(tmp_path, env, server.url, 250, "max_response_bytes = 20_000_000")
    assert code == 1 and len(records) == 250
    assert all(record["status"] == 400 and "bad batch" in str(record["errormessage"]) for record in records)
    for record in records:
        body = record["body"]
        assert isinstance(body, dict) and f"{len(huge)} bytes" in body["note"]
        assert len(body["text"]) <= MAX_BODY_BYTES
    # Before: every record held the whole 9 MB (2.25 GB of results, 3.6 GB RSS).
    assert (tmp_path / "out.jsonl").stat().st_size < 250 * (MAX_BODY_BYTES + 1500)
    assert peak_kb < 400 * 1024, f"peak RSS {peak_kb} KiB"


# --- row 5: servers that never finish an answer --------------------------------------------


@pytest.mark.parametrize(
    "talk",
    [
        pytest.param(drip_body, id="body-1-byte-at-a-time"),
        pytest.param(endless_continue, id="endless-100-continue"),
        pytest.param(drip_headers, id="headers-1-byte-at-a-time"),
        pytest.param(drip_tls_handshake, id="tls-handshake-1-byte-at-a-time"),
    ],
)
def test_a_server_that_never_finishes_ends_in_a_retryable_timeout_at_request_deadline_s(
    tmp_path: Path, env: dict[str, str], talk: Talker
) -> None:
    tls = talk is drip_tls_handshake
    with RawServer(talk, reads_request=not tls) as server:
        url = server.url.replace("http://", "https://") if tls else server.url
        delivery = "request_deadline_s = 0.5\ntimeout_s = 5\nconnect_timeout_s = 5"
        # One batch for the three events, however slowly a loaded machine schedules the reader:
        # the end of the input closes it, not the linger (two batches whose retries share one
        # request would make three connections).
        delivery_config = CONFIG.replace("linger_s = 0.05", "linger_s = 30")
        code, stderr, records, _ = deliver(tmp_path, env, url, 3, delivery, config=delivery_config)
        connections = server.connections
    assert code == 1, stderr
    assert len(records) == 3
    for record in records:
        assert record["status"] == 504 and record["errortype"] == "GATEWAY_TIMEOUT"
        assert "within 0.5 s (request_deadline_s)" in str(record["errormessage"])
        assert record["attempts"] == 2  # retried once (max_retries = 1): a timeout is retryable
    assert connections == 2


CIO_CONFIG = """
[destination]
name = "customerio"

[destination.settings]
site_id = "site"
api_key = "key-for-check"
endpoint = "{url}"

[delivery]
request_deadline_s = 0.5
timeout_s = 5
{delivery}
"""


def test_check_has_the_same_whole_request_deadline(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    with RawServer(drip_body) as server:
        config.write_text(CIO_CONFIG.format(url=server.url, delivery=""))
        proc = run_cli(["check", "--config", str(config)], cli_env(), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "credentials FAILED" in proc.stdout and "request_deadline_s" in proc.stdout
    assert "Traceback" not in proc.stderr


# --- row 9, TLS: the CA bundle and certificate verification --------------------------------


@pytest.mark.parametrize("bundle", ["missing.pem", "garbage.pem", "."], ids=["missing", "not-pem", "a-directory"])
@pytest.mark.parametrize("command", ["deliver", "check"])
def test_a_bad_ca_bundle_is_a_config_error_exit_2(tmp_path: Path, bundle: str, command: str) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    path = str(tmp_path / bundle)
    config = tmp_path / "config.toml"
    config.write_text(CIO_CONFIG.format(url="https://127.0.0.1:9", delivery=f"ca_bundle = {path!r}"))
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl([track(0)]))
    args = ["deliver", str(events), "--no-progress"] if command == "deliver" else ["check"]
    proc = run_cli([*args, "--config", str(config)], cli_env())
    assert proc.returncode == 2, proc.stderr
    assert "delivery.ca_bundle" in proc.stderr and "Traceback" not in proc.stderr


class _Ok(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        items = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["items"]
        answer = orjson.dumps({"results": [{"status": 200} for _ in items]})
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def tls_server() -> Iterator[tuple[str, trustme.CA]]:
    ca = trustme.CA()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}", ca
    finally:
        server.shutdown()
        server.server_close()


def test_a_certificate_that_fails_verification_is_a_config_failure_naming_ca_bundle(
    tmp_path: Path, env: dict[str, str], tls_server: tuple[str, trustme.CA]
) -> None:
    url, _ = tls_server
    code, stderr, records, _ = deliver(tmp_path, env, url, 3)
    assert code == 1, stderr
    assert len(records) == 3
    sent = [record for record in records if record["attempts"]]
    assert sent, records
    for record in sent:
        # Before: three retries as 502. Now one attempt, a configuration failure.
        assert record["attempts"] == 1
        assert record["status"] == 526 and record["errortype"] == "INVALID_SSL_CERTIFICATE"
        assert "ca_bundle" in str(record["errormessage"])


def test_the_same_server_is_trusted_with_its_ca_bundle(
    tmp_path: Path, env: dict[str, str], tls_server: tuple[str, trustme.CA]
) -> None:
    url, ca = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    code, stderr, records, _ = deliver(tmp_path, env, url, 3, f"ca_bundle = {str(bundle)!r}")
    assert code == 0, stderr
    assert [record["outcome"] for record in records] == ["delivered"] * 3
