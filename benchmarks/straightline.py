"""C': the same job as deliverator, as one straight-line script with no framework.

Reads the JSONL input, checks the fields deliverator checks for track events, builds the same
Customer.io v2 ``event`` items with the same deterministic ULID ids, posts ``{"batch": [...]}``
with urllib3 from ``--concurrency`` threads, retries 408/429/5xx, and writes the same outcome
records. What deliverator costs on top of this is the price of its architecture (plugins,
typed values, per-item MultiStatus, the retry scheduler). It has the three optimisations
deliverator has, so the comparison is fair: the ULID encoder reads two digits per table
lookup, the nested-timestamp conversion copies only containers that change, and the young GC
generation is collected every 50,000 allocations.

    python straightline.py EVENTS.jsonl --endpoint URL --results OUT.jsonl [--ca-bundle CA]
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import queue
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import urllib3

BATCH_ITEMS, BATCH_BYTES, ITEM_BYTES = 100, 500_000, 32_000
TYPES = {"identify", "track", "page", "screen", "group", "alias"}
TIME_FIELDS = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two base32 digits per lookup: the optimisation deliverator's ULID encoder has.
PAIRS = tuple(CROCKFORD[pair >> 5] + CROCKFORD[pair & 31] for pair in range(1024))
SHIFTS = tuple(range(120, -1, -10))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RETRYABLE = {408, 423, 429} | {s for s in range(500, 600) if s != 501}


class Invalid(ValueError):
    """An event that can never be sent."""


def present(value: Any) -> bool:
    """A non-blank string or a number counts as given."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def id_text(value: Any, field: str) -> str | None:
    """An identifier as text (numbers accepted), None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    raise Invalid(f"{field} must be a string, got {type(value).__name__}")


def ms_of(value: Any, field: str) -> int:
    """Epoch milliseconds of an ISO-8601 string or an epoch number (read by magnitude)."""
    if isinstance(value, str) and not re.fullmatch(r"-?\d+(?:\.\d+)?", value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(f"{field}: {value!r} is neither ISO-8601 nor a Unix time") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        delta = moment - EPOCH
        return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(f"{field}: expected a time, got {value!r}")
    number = (float(value) if "." in value else int(value)) if isinstance(value, str) else value
    size = abs(number)
    scale = 1000 if size < 1e11 else 1 if size < 1e14 else 0.001 if size < 1e17 else 1e-6
    return int(number * scale // 1)


def nested(value: Any) -> Any:
    """Strict ISO-8601 strings anywhere inside ``value`` become Unix seconds; a container
    holding none is returned as it is (no copy), as deliverator's conversion does."""
    kind = type(value)
    if kind is str:
        if len(value) >= 10 and value[4] == "-" and value[0].isdigit() and ISO.fullmatch(value):
            try:
                return ms_of(value, "") // 1000
            except Invalid:
                return value
        return value
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            if type(item) is str and (len(item) < 10 or item[4] != "-" or not item[0].isdigit()):
                continue
            if type(item) in (int, float, bool) or item is None:
                continue
            converted = nested(item)
            if converted is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = converted
        return value if changed is None else changed
    if kind is list:
        items = [nested(item) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value


def ulid(time_ms: int, message_id: str) -> str:
    """48 bits of time, then 80 bits of BLAKE2b of the messageId, in Crockford base32."""
    entropy = hashlib.blake2b(b"messageId\x00" + message_id.encode(), digest_size=10).digest()
    value = (time_ms << 80) | int.from_bytes(entropy, "big")
    return "".join([PAIRS[(value >> shift) & 1023] for shift in SHIFTS])


def build(event: Any) -> dict[str, Any]:
    """Check one record and build its Customer.io item (track events only: the benchmark's)."""
    if not isinstance(event, dict):
        raise Invalid("record is not a JSON object")
    kind = event.get("type")
    if kind not in TYPES:
        raise Invalid(f"unknown type {kind!r}" if kind is not None else "missing field 'type'")
    if not (present(event.get("userId")) or present(event.get("anonymousId"))):
        raise Invalid(f"{kind} event needs 'userId' or 'anonymousId'")
    if kind != "track":
        raise Invalid(f"this script only sends track events, not {kind}")
    name = event.get("event")
    if not present(name) or not isinstance(name, str):
        raise Invalid("track event needs 'event', a string")
    user_id = id_text(event.get("userId"), "userId")
    anonymous_id = id_text(event.get("anonymousId"), "anonymousId")
    properties = event.get("properties") or {}
    traits = (event.get("context") or {}).get("traits") or {}
    if not isinstance(properties, dict) or not isinstance(traits, dict):
        raise Invalid("properties and context.traits must be objects")
    if user_id and user_id.startswith("cio_") and len(user_id) > 4:
        identifiers = {"cio_id": user_id[4:]}
    elif user_id:
        identifiers = {"email" if "@" in user_id and EMAIL.fullmatch(user_id) else "id": user_id}
    elif isinstance(traits.get("email"), str) and traits["email"]:
        identifiers = {"email": traits["email"]}
    elif anonymous_id:
        identifiers = {"anonymous_id": anonymous_id}
    else:
        raise Invalid("the event needs a userId, an email trait or an anonymousId")
    time_ms = next((ms_of(event[f], f) for f in TIME_FIELDS if event.get(f) not in (None, "")), None)
    message_id = event.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise Invalid("this script needs a messageId for the deduplication id")
    item: dict[str, Any] = {
        "type": "person", "action": "event", "identifiers": identifiers, "name": name,
        "id": ulid(time_ms or 0, message_id),
    }
    if time_ms is not None:
        item["timestamp"] = time_ms // 1000
    item["attributes"] = nested(properties)
    return item


def record(index: int, message_id: Any, outcome: str, status: int, *, errortype: str | None = None,
           message: str | None = None, attempts: int = 0, sent: bytes | None = None, body: Any = None) -> bytes:
    """One outcome line; ``sent`` is the item's JSON exactly as posted."""
    return orjson.dumps({
        "index": index, "message_id": message_id if isinstance(message_id, str) else None,
        "outcome": outcome, "status": status, "errortype": errortype, "errormessage": message,
        "attempts": attempts, "sent": None if sent is None else orjson.Fragment(sent), "body": body,
    }) + b"\n"


class Run:
    """The shared pieces: the pool, the outcome file and its lock."""

    def __init__(self, endpoint: str, results: Path, ca_bundle: str | None, concurrency: int) -> None:
        self.url = endpoint.rstrip("/") + "/api/v2/batch"
        auth = base64.b64encode(b"bench:bench-key").decode()
        self.headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
        self.pool = urllib3.PoolManager(maxsize=concurrency, block=True, retries=False, ca_certs=ca_bundle,
                                        timeout=urllib3.Timeout(connect=5, read=10))
        self.out = results.open("wb", buffering=1 << 20)
        self.lock = threading.Lock()
        self.failed = 0

    def write(self, lines: list[bytes], failed: int = 0) -> None:
        with self.lock:
            self.out.write(b"".join(lines))
            self.failed += failed

    def send(self, batch: list[tuple[int, Any, bytes]]) -> None:
        """Post one batch, retrying whole-request failures, and record every item."""
        body = b'{"batch":[' + b",".join(item for _, _, item in batch) + b"]}"
        for attempt in range(1, 7):
            try:
                response = self.pool.request("POST", self.url, body=body, headers=self.headers)
                status, data = response.status, response.data
            except urllib3.exceptions.HTTPError as exc:
                status, data = 502, str(exc).encode()
            if status not in RETRYABLE or attempt == 6:
                break
            time.sleep(min(2 ** (attempt - 1), 16))
        try:
            parsed = orjson.loads(data) if data else {}
            parsed = orjson.loads(parsed) if isinstance(parsed, str) else parsed
        except orjson.JSONDecodeError:
            parsed = data.decode(errors="replace")
        errors: dict[int, list[dict[str, Any]]] = {}
        if status in (200, 207) and isinstance(parsed, dict):
            for error in parsed.get("errors") or []:
                errors.setdefault(error.get("batch_index"), []).append(error)
        lines, failed = [], 0
        for position, (index, message_id, item) in enumerate(batch):
            if status in (200, 207) and position not in errors:
                lines.append(record(index, message_id, "delivered", status, attempts=attempt, sent=item, body=parsed))
            elif position in errors:
                found = errors[position]
                invalid = all(e.get("reason") in ("invalid", "required") for e in found)
                kind = "PAYLOAD_VALIDATION_FAILED" if invalid else "UNKNOWN_ERROR"
                text = "; ".join(str(e.get("message") or e.get("reason")) for e in found)
                lines.append(record(index, message_id, "failed", 400, errortype=kind, message=text,
                                    attempts=attempt, sent=item, body=found))
                failed += 1
            else:
                lines.append(record(index, message_id, "failed", status, errortype="UNKNOWN_ERROR",
                                    message=f"HTTP {status}", attempts=attempt, sent=item, body=parsed))
                failed += 1
        self.write(lines, failed)


def main() -> None:
    """Read, check, build, batch, post from threads, write outcomes; exit 1 if any failed."""
    parser = argparse.ArgumentParser(description="C': deliverator's job as straight-line code")
    parser.add_argument("input", type=Path)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--ca-bundle")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    # The young generation collected every 50,000 allocations, as the deliverator CLI does.
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    run = Run(args.endpoint, args.results, args.ca_bundle, args.concurrency)
    batches: queue.Queue[list[tuple[int, Any, bytes]] | None] = queue.Queue(maxsize=args.concurrency * 2)

    def worker() -> None:
        while (batch := batches.get()) is not None:
            run.send(batch)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    batch: list[tuple[int, Any, bytes]] = []
    size = len(b'{"batch":[]}')
    index = -1
    with args.input.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            index += 1
            event: Any = None
            try:
                event = orjson.loads(line)
                item = orjson.dumps(build(event))
            except (orjson.JSONDecodeError, Invalid) as exc:
                message_id = event.get("messageId") if isinstance(event, dict) else None
                run.write([record(index, message_id, "failed", 400, errortype="PAYLOAD_VALIDATION_FAILED",
                                  message=str(exc))], failed=1)
                continue
            if len(item) > ITEM_BYTES:
                run.write([record(index, event.get("messageId"), "failed", 413, errortype="PAYLOAD_TOO_LARGE",
                                  message=f"item of {len(item)} bytes is over {ITEM_BYTES}")], failed=1)
                continue
            if batch and (len(batch) == BATCH_ITEMS or size + len(item) + 1 >= BATCH_BYTES):
                batches.put(batch)
                batch, size = [], len(b'{"batch":[]}')
            batch.append((index, event.get("messageId"), item))
            size += len(item) + 1
    if batch:
        batches.put(batch)
    for _ in threads:
        batches.put(None)
    for thread in threads:
        thread.join()
    run.out.close()
    print(f"{index + 1 - run.failed} delivered, {run.failed} failed, 0 ignored")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()
