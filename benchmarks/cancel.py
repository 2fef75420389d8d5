"""How long a cancelled run takes to stop, by where its outcomes go: seconds from SIGTERM to
exit of ``deliverator deliver EVENTS`` with ``--results -`` (no journal: every unread record
is read and recorded 499 ``CANCELLED``) beside ``--results FILE`` (journaled: unread records
are left alone), taking turns, over ``--repeat`` runs, against the benchmark's sink.

Not part of ``run.py``: each ``--results -`` run writes about two thirds of the input's size
in outcome records and as much again in dead letters (about 2 GB for 3,000,000 events).

    .venv/bin/python benchmarks/cancel.py --events 3000000 --repeat 3
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from deliverator_job import customerio_config, deliverator_command
from events import write_events
from sink import Sink
from spread import Spread

_CANCELLED = re.compile(r"(\d+) cancelled")


def cancel_once(events: Path, config: Path, work: Path, *, journaled: bool, after_s: float) -> tuple[float, int]:
    """One run, SIGTERM ``after_s`` seconds after its start: (seconds from the signal to its
    exit, records it recorded cancelled)."""
    results = work / "results.jsonl"
    for leftover in [*work.glob("results.jsonl*"), *work.glob("dead*.jsonl"), work / "stdout.jsonl"]:
        leftover.unlink(missing_ok=True)
    command = [str(deliverator_command()), "deliver", str(events), "--config", str(config), "--no-progress"]
    if journaled:
        command += ["--results", str(results)]
    else:
        command += ["--results", "-", "--dead-letter", str(work / "dead.jsonl")]
    with (work / "stdout.jsonl").open("wb") as written:  # where a --results - run writes
        out: IO[bytes] | int = subprocess.DEVNULL if journaled else written
        with subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=work) as proc:
            time.sleep(after_s)
            signalled = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate()
            seconds = time.perf_counter() - signalled
    expected = 3 if journaled else 1
    if proc.returncode != expected:
        raise RuntimeError(f"exit {proc.returncode}, expected {expected}: {stderr.decode()[-500:]}")
    found = _CANCELLED.search(stderr.decode())
    return seconds, int(found.group(1)) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--after-s", type=float, default=1.5, help="seconds of delivery before the signal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deliverator-cancel-") as name, Sink(mode="ok") as sink:
        work = Path(name)
        events = write_events(work / "events.jsonl", args.events)
        config = customerio_config(work / "cancel.toml", sink.url, concurrency=4, ca_bundle=None)
        times: dict[bool, list[float]] = {False: [], True: []}
        cancelled: list[int] = []
        for _ in range(args.repeat):
            for journaled in (False, True):
                seconds, count = cancel_once(events, config, work, journaled=journaled, after_s=args.after_s)
                times[journaled].append(seconds)
                if not journaled:
                    cancelled.append(count)
    stdout, journal = Spread.of(times[False]), Spread.of(times[True])
    per_record = Spread.of([s / max(c, 1) * 1e6 for s, c in zip(times[False], cancelled, strict=True)])
    print(f"{args.events:,} events, {args.repeat} runs each, SIGTERM after {args.after_s} s; median (min-max):")
    count = Spread.of(cancelled).format(",.0f")
    print(f"  --results -     {stdout.format(',.1f')} s to stop, {count} recorded cancelled"
          f" ({per_record.format(',.2f')} us each)")
    print(f"  --results FILE  {journal.format(',.2f')} s to stop (unread records stay pending)")


if __name__ == "__main__":
    main()
