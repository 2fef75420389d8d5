"""Queue mode's scale-out: how many events per second 1 and 2 ``deliverator worker`` processes
deliver from one Redis stream to the fast sink (issue: 2 workers >= 1.6 x one).

    python benchmarks/queue_scale.py [--events N] [--repeat R] [--workers 1,2] [--concurrency 4]

Each run gets a fresh sink (plain HTTP, ``200 {}``), an emptied ``redis-server`` (started here
on a free port, no persistence) and K fresh worker processes with the Customer.io destination
(``concurrency`` 4, ``linger_s`` 0.1 so the last partial batches do not wait a whole second).
N - 1 events are enqueued first, behind a consumer group that starts at the stream's end; once
every worker waits for entries (start-up is not timed), the clock starts, ``XGROUP SETID ... 0``
hands them out at once and one last ``XADD`` wakes the workers; the clock stops when the
outcomes stream holds N records. A run counts only if every outcome is ``delivered`` and
nothing is left pending. Each run also reports the CPU seconds of every worker, the share of a
core Redis used, and the machine's load average (other work on the machine skews figures).
Figures: min / median / max events/s over the repeats, and the ratio of medians. Worker counts
are interleaved, so drift on a shared machine hits each alike.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deliverator._queue.testserver import RedisServer, redis_server_binary

from deliverator_job import deliverator_command, write_config
from events import write_events
from sink import Sink

HERE = Path(__file__).resolve().parent
_JOIN_TIMEOUT_S = 60.0
_RUN_TIMEOUT_S = 600.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="events per run (100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per worker count (3)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (1,2)")
    parser.add_argument("--concurrency", type=int, default=4, help="[delivery] concurrency of each worker")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.worker_counts = [int(count) for count in args.workers.split(",") if count.strip()]
    if args.events < 1 or args.repeat < 1 or not args.worker_counts or min(args.worker_counts) < 1:
        parser.error("--events, --repeat and every --workers count must be at least 1")
    return args


def _wait_for(condition: Any, timeout_s: float, what: str, poll_s: float = 0.02) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(poll_s)


def _enqueue(server: RedisServer, stream: str, lines: list[bytes]) -> None:
    pipe = server.client.pipeline(transaction=False)
    for start in range(0, len(lines), 1000):
        for line in lines[start : start + 1000]:
            pipe.xadd(stream, {b"event": line})
        pipe.execute()


def _wait_measured(process: subprocess.Popen[bytes]) -> Any:
    """Wait for ``process`` and return its resource usage (None if it was reaped already)."""
    if process.returncode is None:
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except ChildProcessError:
            process.wait()
            return None
        process.returncode = os.waitstatus_to_exitcode(status)
        return usage
    return None


def _redis_cpu_s(server: RedisServer) -> float:
    info = server.client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_once(server: RedisServer, lines: list[bytes], workers: int, concurrency: int, work: Path) -> dict[str, Any]:
    """One timed run with ``workers`` processes; raises RuntimeError if it is not complete."""
    client = server.client
    client.flushall()
    url = server.url()
    sink = Sink(mode="ok", workers=1, tls=None)
    sink.start()
    config = write_config(
        work / "queue.toml",
        {
            "destination": {"name": "customerio"},
            "destination.settings": {"site_id": "bench", "api_key": "bench-key", "endpoint": sink.url},
            "delivery": {"concurrency": concurrency, "linger_s": 0.1},
        },
    )
    _enqueue(server, url.stream, lines[:-1])
    client.xgroup_create(url.stream, url.group, id="$")  # nothing to read until SETID below
    env = {**os.environ, "NO_COLOR": "1"}
    logs = [(work / f"worker-{n}.log").open("wb") for n in range(workers)]
    processes = [
        subprocess.Popen(
            [str(deliverator_command()), "worker", "--config", str(config), "--queue", str(url), "--consumer", f"w{n}"],
            env=env,
            stdout=log,
            stderr=log,
        )
        for n, log in enumerate(logs)
    ]
    try:
        def joined() -> bool:  # every worker's reader is waiting in XREADGROUP
            if any(process.poll() is not None for process in processes):
                logs[0].flush()
                tails = [(work / f"worker-{n}.log").read_text()[-2000:] for n in range(workers)]
                raise RuntimeError(f"a worker exited before it started reading: {tails}")
            return sum(1 for c in client.client_list() if c.get("cmd") == "xreadgroup") >= workers

        _wait_for(joined, _JOIN_TIMEOUT_S, f"{workers} workers to join the group")
        redis_cpu = _redis_cpu_s(server)
        started = time.perf_counter()
        client.xgroup_setid(url.stream, url.group, "0")
        client.xadd(url.stream, {b"event": lines[-1]})  # wakes the workers' blocked reads
        _wait_for(lambda: client.xlen(url.outcomes_stream) >= len(lines), _RUN_TIMEOUT_S, "every outcome", 0.02)
        seconds = time.perf_counter() - started
        redis_cpu = _redis_cpu_s(server) - redis_cpu
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        usages = [_wait_measured(process) for process in processes]
        codes = [process.returncode for process in processes]
        for log in logs:
            log.close()
        stats = sink.stop()
    if any(codes):
        raise RuntimeError(f"a worker exited with {codes}; see {work}/worker-*.log")
    records = [fields[b"record"] for _, fields in client.xrange(url.outcomes_stream)]
    delivered = sum(1 for record in records if b'"outcome":"delivered"' in record)
    pending = int(client.xpending(url.stream, url.group)["pending"])
    if delivered != len(lines) or len(records) != len(lines) or pending:
        raise RuntimeError(f"incomplete run: {len(records)} outcomes, {delivered} delivered, {pending} pending")
    return {
        "workers": workers,
        "events": len(lines),
        "seconds": round(seconds, 3),
        "events_per_s": round(len(lines) / seconds),
        "sink_requests": stats.requests,
        "sink_cpu_share": round(stats.busiest_core_share, 2),
        "redis_cpu_share": round(redis_cpu / seconds, 2),
        "worker_cpu_s": [round(usage.ru_utime + usage.ru_stime, 2) for usage in usages if usage is not None],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every worker count ``repeat`` times, interleaved; print and save the figures."""
    args = parse_args(argv)
    binary = redis_server_binary()
    if binary is None:
        print("redis-server is not installed: the queue benchmark needs it", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="deliverator-queue-bench-") as directory:
        work = Path(directory)
        lines = write_events(work / "events.jsonl", args.events).read_bytes().splitlines()
        server = RedisServer(binary, work)
        runs: dict[int, list[dict[str, Any]]] = {count: [] for count in args.worker_counts}
        try:
            for attempt in range(args.repeat):
                for count in args.worker_counts:  # interleaved, so drift on a shared machine hits both
                    result = run_once(server, lines, count, args.concurrency, work)
                    runs[count].append(result)
                    print(f"run {attempt + 1}/{args.repeat}, {count} worker(s): {result['events_per_s']:,} events/s "
                          f"({result['seconds']} s; CPU share: sink {result['sink_cpu_share']}, redis "
                          f"{result['redis_cpu_share']}; worker CPU s {result['worker_cpu_s']}; load average "
                          f"{result['load_average_1m']})", file=sys.stderr)
        finally:
            server.stop()
    report = summarise(args, runs)
    for line in report["lines"]:
        print(line)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / "queue-scale-latest.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return 0


def summarise(args: argparse.Namespace, runs: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """Min / median / max per worker count, and each count's median over the first count's."""
    figures: dict[str, Any] = {}
    lines = [f"queue mode, {args.events:,} events per run, {args.repeat} runs each, concurrency {args.concurrency}"]
    base = None
    for count, results in runs.items():
        rates = [result["events_per_s"] for result in results]
        median = statistics.median(rates)
        base = base or median
        figures[str(count)] = {"min": min(rates), "median": median, "max": max(rates), "runs": results}
        lines.append(
            f"{count} worker(s): min {min(rates):,} / median {median:,.0f} / max {max(rates):,} events/s"
            f"  ({median / base:.2f} x {args.worker_counts[0]} worker(s), medians)"
        )
    return {"setup": {"events": args.events, "repeat": args.repeat, "concurrency": args.concurrency,
                      "cpus": os.cpu_count()}, "workers": figures, "lines": lines}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
