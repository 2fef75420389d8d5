"""Hostile peers for the hardening tests: raw-socket servers that never finish an answer, and a
CLI runner that reads the peak memory of the process it ran."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

import orjson

_MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(proc.stdout)
sys.stderr.buffer.write(proc.stderr)
sys.stderr.write("\\n@@peak_rss_kb=%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


def run_cli_measured(
    args: list[str], env: Mapping[str, str], cwd: Path | None = None, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``deliverator ARGS`` in a real process; returns it and its peak RSS in KiB.

    The CLI runs as the only child of a small wrapper process, so ``RUSAGE_CHILDREN`` there is
    the CLI's own peak, not the largest of every process this test session has started.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "deliverator", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    stderr, _, peak = proc.stderr.rpartition("\n@@peak_rss_kb=")
    proc.stderr = stderr
    return proc, int(peak.strip())


Talker = Callable[[socket.socket], None]
"""What a raw server does with one accepted connection, after reading the request."""


def drip_body(conn: socket.socket) -> None:
    """Headers at once, then the body one byte every 50 ms (it never completes in time)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    while True:
        conn.sendall(b" ")
        time.sleep(0.05)


def endless_continue(conn: socket.socket) -> None:
    """``100 Continue`` forever: each a complete interim answer, never a final one."""
    while True:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.05)


def drip_headers(conn: socket.socket) -> None:
    """The status line and headers one byte at a time."""
    for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 100000:
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


class RawServer:
    """A loopback TCP server that reads a request (unless ``reads_request`` is false: a TLS
    client speaks first with no blank line), then lets ``talk`` answer (or not)."""

    def __init__(self, talk: Talker, reads_request: bool = True) -> None:
        self._talk = talk
        self._reads_request = reads_request
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.connections = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(5)
            data = b"" if self._reads_request else b"\r\n\r\n"
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self._talk(conn)


def deep_json(levels: int) -> bytes:
    """A JSON array nested ``levels`` deep."""
    return b"[" * levels + b"]" * levels


def outcome_records(path: Path) -> list[dict[str, object]]:
    """The records of an outcome (or dead-letter) file."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def drip_tls_handshake(conn: socket.socket) -> None:
    """The start of a TLS record that promises 16 KB of handshake, then one byte at a time."""
    conn.sendall(b"\x16\x03\x03\x40\x00")
    while True:
        conn.sendall(b"\x00")
        time.sleep(0.05)
