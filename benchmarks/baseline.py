"""C: the zero-work baseline. The same Customer.io batches as the other runners, encoded
before the clock starts, posted with urllib3 from ``--concurrency`` threads; nothing is read,
checked or written while timed. Its rate is what the network and the sink allow.

    python baseline.py EVENTS.jsonl --endpoint URL [--ca-bundle CA] [--concurrency 4]

Prints one JSON line: events, requests, seconds (of the posting only) and failures.
"""

from __future__ import annotations

import argparse
import base64
import sys
import threading
import time
from pathlib import Path

import orjson
import urllib3

from straightline import BATCH_ITEMS, build


def encode_batches(path: Path, batch_items: int = BATCH_ITEMS) -> tuple[list[bytes], int]:
    """Every event's item, ``batch_items`` to a request body; and how many events."""
    bodies: list[bytes] = []
    items: list[bytes] = []
    events = 0
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            items.append(orjson.dumps(build(orjson.loads(line))))
            events += 1
            if len(items) == batch_items:
                bodies.append(b'{"batch":[' + b",".join(items) + b"]}")
                items = []
    if items:
        bodies.append(b'{"batch":[' + b",".join(items) + b"]}")
    return bodies, events


def post_all(bodies: list[bytes], url: str, concurrency: int, ca_bundle: str | None) -> tuple[float, int]:
    """Post every body, thread k taking bodies k, k + concurrency, ...; (seconds, failures)."""
    auth = base64.b64encode(b"bench:bench-key").decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
    pool = urllib3.PoolManager(maxsize=concurrency, block=True, retries=False, ca_certs=ca_bundle)
    failures = [0] * concurrency

    def post(k: int) -> None:
        for body in bodies[k::concurrency]:
            if pool.request("POST", url, body=body, headers=headers).status != 200:
                failures[k] += 1

    threads = [threading.Thread(target=post, args=(k,)) for k in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(failures)


def main() -> None:
    """Encode, then time the posting."""
    parser = argparse.ArgumentParser(description="C: zero-work baseline")
    parser.add_argument("input", type=Path)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--ca-bundle")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    bodies, events = encode_batches(args.input)
    url = args.endpoint.rstrip("/") + "/api/v2/batch"
    seconds, failures = post_all(bodies, url, args.concurrency, args.ca_bundle)
    result = {"events": events, "requests": len(bodies), "seconds": seconds, "failures": failures}
    print(orjson.dumps(result).decode())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
