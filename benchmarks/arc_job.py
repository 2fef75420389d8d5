"""One deliverator run through the library (``DeliveryRun``, as ``deliver`` composes it), with
the adaptive concurrency limit sampled every 50 ms: the child side of ``arc.py``.

    python arc_job.py CONFIG.toml EVENTS.jsonl RESULTS.jsonl

Prints one JSON line: the run's seconds and counts, and ``samples``, ``[seconds, limit]``
pairs. The limit is read from the run's limiter, exactly what the senders obey.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from pathlib import Path

import orjson

from deliverator._clock import RealClock
from deliverator._config import load_config
from deliverator._delivery import DeliveryRun, RunOptions
from deliverator._delivery.sinks import StreamSink
from deliverator._session import http_client, open_session, request_pacer

SAMPLE_EVERY_S = 0.05


def main() -> None:
    """Run, sample, print."""
    config_path, events_path, results_path = (Path(arg) for arg in sys.argv[1:4])
    config = load_config(config_path)
    destination = open_session(config).destination
    delivery = config.delivery
    options = RunOptions(
        batch_size=min(delivery.batch_size or destination.spec.batch_items, destination.spec.max_batch_items),
        concurrency=delivery.sender_threads, adaptive_concurrency=delivery.adaptive, linger_s=delivery.linger_s,
    )
    clock = RealClock()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])  # as the CLI runs
    with results_path.open("wb") as results, results_path.with_suffix(".dead.jsonl").open("wb") as dead:
        run = DeliveryRun(
            destination, http_client(config), options, StreamSink(results, dead), config.error_handler,
            clock=clock, pacer=request_pacer(config, clock),
        )
        samples: list[tuple[float, int]] = []
        done = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY_S):
                samples.append((round(time.monotonic() - started, 3), run.limiter.limit))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with events_path.open("rb") as source:
            summary = run.run(source)
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
    print(orjson.dumps({
        "seconds": seconds, "delivered": summary.delivered, "failed": summary.failed,
        "rate_limited": summary.rate_limited, "samples": samples, "final_limit": run.limiter.limit,
    }).decode())


if __name__ == "__main__":
    main()
