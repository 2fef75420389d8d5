"""Peak memory of ``deliverator deliver`` where an unbounded loop would grow: a destination
that is down, and a stream of invalid records.

    python benchmarks/bounded_memory.py [--events 300000] [--invalid 1000000] [--outage-s 20]

1. healthy: EVENTS track events against a loopback Customer.io stand-in answering 200.
2. outage: the same file against one answering 503 to everything, constant backoff 30 s; the
   run is stopped with SIGTERM after ``--outage-s`` seconds (it resumes later; exit 3).
   Events waiting for a retry count against the cap on batches out, so the reader stops reading:
   the peak should stay within 1.5x of the healthy run's.
3. invalid: INVALID lines that are not JSON through standard input, outcomes to /dev/null.

Peak RSS is the kernel's high-water mark of the process's own memory (``VmHWM``). Set PYTHONPATH to
another checkout's ``core`` to measure that one instead (e.g. the code before a change).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import orjson

from deliverator.testing import RecordedRequest, ScriptedResponse, ScriptedServer

CONFIG = """
[destination]
name = "customerio"

[destination.settings]
site_id = "site"
api_key = "key"
endpoint = "{url}"

[delivery]
batch_size = 100
concurrency = 4

[error_handler]
max_retries = 10
max_time = 100000
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 30 }}]
"""


def _events(path: Path, count: int) -> None:
    with path.open("wb") as out:
        for i in range(count):
            event = {
                "type": "track",
                "userId": f"user-{i % 5000}",
                "event": "Order Completed",
                "messageId": f"m-{i}",
                "timestamp": "2024-05-01T12:00:00Z",
                "properties": {"order_id": f"o-{i}", "total": 42.5, "currency": "EUR", "items": [1, 2, 3]},
            }
            out.write(orjson.dumps(event) + b"\n")


def _high_water_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def _peak_mb(
    command: list[str], *, stdin: IO[bytes] | None = None, stop_after_s: float | None = None
) -> tuple[float, int]:
    """(peak RSS in MB, exit code) of one run of ``command``: the kernel's high-water mark of
    the process's own memory (``VmHWM``), read until it exits. (``wait4``'s ru_maxrss would
    also count this parent's memory at the fork.)"""
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(command, stdin=stdin, stdout=devnull, stderr=subprocess.DEVNULL)
        peak = 0
        started = time.monotonic()
        stopped = stop_after_s is None
        while proc.poll() is None:
            peak = max(peak, _high_water_kb(proc.pid) or 0)
            if not stopped and time.monotonic() - started >= (stop_after_s or 0):
                proc.send_signal(signal.SIGTERM)
                stopped = True
            time.sleep(0.02)
    return peak / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--invalid", type=int, default=1_000_000)
    parser.add_argument("--outage-s", type=float, default=20.0)
    args = parser.parse_args()
    deliverator = [sys.executable, "-m", "deliverator"]
    lock = threading.Lock()
    seen: set[str] = set()

    def healthy(request: RecordedRequest) -> ScriptedResponse:
        return ScriptedResponse(status=200, body={})

    def down(request: RecordedRequest) -> ScriptedResponse:
        with lock:
            seen.update(str(item.get("id")) for item in orjson.loads(request.body).get("batch", []))
        return ScriptedResponse(status=503)

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        events = work / "events.jsonl"
        _events(events, args.events)
        figures = {}
        for name, answer in (("healthy", healthy), ("outage", down)):
            with ScriptedServer(answer) as server:
                config = work / f"{name}.toml"
                config.write_text(CONFIG.format(url=server.url))
                command = [*deliverator, "deliver", str(events), "--config", str(config), "--no-progress"]
                command += ["--results", str(work / f"{name}.results.jsonl")]
                stop = args.outage_s if name == "outage" else None
                figures[name] = _peak_mb(command, stop_after_s=stop)
        invalid = work / "invalid.jsonl"
        invalid.write_bytes(b"this is not json\n" * args.invalid)
        with ScriptedServer(healthy) as server, invalid.open("rb") as stdin:
            config = work / "invalid.toml"
            config.write_text(CONFIG.format(url=server.url))
            command = [*deliverator, "deliver", "-", "--config", str(config), "--no-progress", "--results", "-"]
            figures["invalid"] = _peak_mb(command, stdin=stdin)
    for name, (peak, code) in figures.items():
        print(f"{name:8} peak RSS {peak:7.1f} MB  exit {code}")
    print(f"outage / healthy: {figures['outage'][0] / figures['healthy'][0]:.2f}x")
    print(f"distinct events the down destination saw in {args.outage_s:g} s: {len(seen)} of {args.events}")


if __name__ == "__main__":
    main()
