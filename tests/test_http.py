"""The HTTP client against real loopback servers: no retries, no redirects followed, capped
bodies, timeouts, TLS verification."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from deliverator._http import Headers, HttpClient, HttpResponse, HttpSettings, TransportError
from deliverator.testing import ScriptedResponse, ScriptedServer


def test_headers_are_case_insensitive_and_repeated_ones_join() -> None:
    headers = Headers({"Retry-After": "3", "X-A": "1"})
    assert headers["retry-after"] == "3"
    assert "RETRY-AFTER" in headers
    assert list(headers) == ["Retry-After", "X-A"]


def test_response_json_ignores_content_type_and_text_replaces_bad_bytes() -> None:
    response = HttpResponse(status=200, headers={"Content-Type": "text/plain"}, body=b'{"a": 1}')
    assert response.json() == {"a": 1}
    assert HttpResponse(status=200, body=b"caf\xff").text == "caf\ufffd"


def test_a_redirect_comes_back_as_a_response_and_is_not_followed() -> None:
    with ScriptedServer([ScriptedResponse(status=301, headers={"Location": "/elsewhere"})]) as server:
        response = HttpClient().post(server.url + "/api", body=b"{}")
        assert response.status == 301
        assert [r.path for r in server.requests] == ["/api"]


def test_a_5xx_is_returned_once_never_retried_by_urllib3() -> None:
    with ScriptedServer([ScriptedResponse(status=503)]) as server:
        assert HttpClient().post(server.url, body=b"{}").status == 503
        assert len(server.requests) == 1


def test_a_body_declared_over_the_cap_is_an_error() -> None:
    with ScriptedServer([ScriptedResponse(status=200, body=b"x" * 5000)]) as server:
        client = HttpClient(HttpSettings(max_response_bytes=1000))
        with pytest.raises(TransportError) as info:
            client.post(server.url, body=b"{}")
    assert info.value.kind == "too_large"
    assert "1000-byte cap" in str(info.value)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up or refusing our certificate is what these tests provoke."""


class _Chunked(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"y" * 4096
        try:
            for _ in range(64):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass


@pytest.fixture
def chunked_server() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _Chunked)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_streamed_body_over_the_cap_is_cut_off(chunked_server: str) -> None:
    client = HttpClient(HttpSettings(max_response_bytes=10_000))
    with pytest.raises(TransportError) as info:
        client.post(chunked_server, body=b"{}")
    assert info.value.kind == "too_large"


def test_a_slow_answer_is_a_timeout() -> None:
    with ScriptedServer([ScriptedResponse(status=200, delay_s=1.0)]) as server:
        client = HttpClient(HttpSettings(read_timeout_s=0.2))
        with pytest.raises(TransportError) as info:
            client.post(server.url, body=b"{}")
    assert info.value.kind == "timeout"


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError) as info:
        HttpClient().post(f"http://127.0.0.1:{port}/", body=b"{}")
    assert info.value.kind == "connect"


def test_transport_errors_never_show_user_info_or_query_strings() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError) as info:
        HttpClient().post(f"http://user:hunter2@127.0.0.1:{port}/x?key=hunter2", body=b"{}")
    assert "hunter2" not in str(info.value)


class _TlsServer:
    def __init__(self, cert: trustme.LeafCert) -> None:
        self.server = _QuietServer(("127.0.0.1", 0), _Ok)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"https://localhost:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Ok(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_tls_is_verified_and_a_private_ca_can_be_trusted(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = _TlsServer(ca.issue_cert("localhost"))
    try:
        with pytest.raises(TransportError) as info:
            HttpClient().post(server.url, body=b"{}")
        assert info.value.kind == "certificate"
        bundle = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        trusted = HttpClient(HttpSettings(ca_bundle=str(bundle)))
        assert trusted.post(server.url, body=b"{}").status == 200
    finally:
        server.close()
