"""Records refused in blocks once a run stops (issue 9, point 7): the outcome records and dead
letters written for a block are byte for byte those the per-record path wrote, whatever the
records hold; a block takes room for each of its records; a block still being filled when the
reader blocks on a quiet pipe is taken by the coordinator, so a record read still gets its
outcome."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deliverator._clock import RealClock
from deliverator._delivery.batching import Batcher
from deliverator._delivery.channels import (
    MAX_REJECTED_WAITING,
    REFUSED_BLOCK,
    Channels,
    ReaderDone,
    RefusedBlock,
    Rejected,
)
from deliverator._delivery.committer import BurstBuffer
from deliverator._delivery.filesource import StreamSource
from deliverator._delivery.items import Item
from deliverator._delivery.preparer import Preparer
from deliverator._delivery.recorder import OutcomeRecorder
from deliverator._delivery.sources import Source, SourceRecord
from deliverator._destination import Destination
from deliverator._encoded import dumps_exact
from deliverator._events import MAX_DEPTH, InvalidRecord, decode_input, message_id_of
from tests.test_reader_lines import Trickle

CANCELLED = (499, "CANCELLED", "the run was cancelled before this event was sent")
FATAL = (
    401,
    "INVALID_AUTHENTICATION",
    "the run stopped because the destination answered 401 INVALID_AUTHENTICATION: 100% wrong %d %s %b; "
    "this event was not sent",
)


class ListSource:
    """A source over records made in the test (read once, like standard input)."""

    resumable = False
    total = None

    def __init__(self, records: list[SourceRecord]) -> None:
        self._records = records

    def __iter__(self) -> Iterator[SourceRecord]:
        return iter(self._records)

    def stop(self) -> None:
        pass


def per_record_path(record: SourceRecord, refusal: tuple[int, str, str]) -> tuple[bytes, bytes | None]:
    """What the preparer and recorder wrote for one refused record before blocks: the oracle."""
    message_id, raw, origin = None, record.raw, None
    if record.refused is None:
        try:
            decoded, raw, origin = decode_input(record.raw)
            message_id = message_id_of(decoded)
        except InvalidRecord as exc:
            raw, origin = exc.raw or record.raw, exc.origin_index
        except Exception:
            raw = record.raw
    buffer = BurstBuffer()
    OutcomeRecorder(buffer).failed(Item(record, message_id, raw, None, b"", origin), *refusal)
    ((_, outcome, dead),) = buffer.take()
    return outcome, dead


def refused_in_blocks(
    destination: Destination,
    records: list[SourceRecord] | Source,
    refusal: tuple[int, str, str],
    *,
    in_blocks: bool = False,
) -> tuple[list[RefusedBlock], ReaderDone, OutcomeRecorder, BurstBuffer]:
    """Run the preparer over ``records`` (or a source) with the run already stopped; record
    its blocks. ``in_blocks``: the sink takes records already written out."""
    channels = Channels(1)
    batcher = Batcher(max_items=10, max_bytes=None, overhead_bytes=0)
    preparer = Preparer(destination, batcher, channels, RealClock(), refuse_in_blocks=in_blocks)
    preparer.refusal = refusal
    channels.stop.set()
    buffer = BurstBuffer()
    recorder = OutcomeRecorder(buffer)
    blocks: list[RefusedBlock] = []
    source = ListSource(records) if isinstance(records, list) else records
    reader = threading.Thread(target=preparer.run, args=(source,))
    reader.start()
    while True:  # the coordinator's part: record each block, then give its room back
        message = channels.results.get(timeout=30)
        if isinstance(message, ReaderDone):
            break
        assert isinstance(message, RefusedBlock), message
        blocks.append(message)
        recorder.refused(message)
        channels.rejected_recorded(message.count)
    reader.join(timeout=30)
    return blocks, message, recorder, buffer


# --- what a record may hold ---------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
MESSAGE_IDS = st.text() | st.integers() | st.none() | st.just("m-1") | st.just('é\u2028"\\/</script>')
EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify", "bogus"])},
    optional={"messageId": MESSAGE_IDS, "userId": st.text(max_size=5), "properties": JSON_VALUES},
)
DEAD_LETTERS = st.fixed_dictionaries(
    {
        "event": EVENTS | st.text(max_size=20) | JSON_VALUES,
        "index": st.integers(min_value=0) | st.none() | st.text(max_size=3),
        "status": st.just(400),
        "errortype": st.just("PAYLOAD_VALIDATION_FAILED"),
        "errormessage": st.text(max_size=10),
        "attempts": st.just(0),
    },
    optional={"origin_index": st.integers(min_value=0) | st.booleans()},
)


def encodings(value: Any) -> st.SearchStrategy[bytes]:
    """A JSON value as orjson writes it, and as ``json`` writes it (escapes, spaces)."""
    return st.sampled_from(
        [dumps_exact(value), json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()]
    )


def deep(levels: int) -> bytes:
    return b'{"type":"track","messageId":"m-deep","p":' + b"[" * levels + b"]" * levels + b"}"


LINES = st.one_of(
    EVENTS.flatmap(encodings),
    DEAD_LETTERS.flatmap(encodings),
    JSON_VALUES.map(dumps_exact),
    st.binary(max_size=40),
    EVENTS.map(lambda event: b"\xef\xbb\xbf" + dumps_exact(event)),  # a byte order mark
    EVENTS.map(lambda event: b"  " + dumps_exact(event) + b" \t"),  # a queue entry is not stripped
    EVENTS.map(lambda event: dumps_exact(event)[:-1]),  # cut short
    st.integers(min_value=MAX_DEPTH - 5, max_value=MAX_DEPTH + 5).map(deep),
)
RECORDS = st.builds(
    lambda raw, index, entry_id, refused: SourceRecord(raw, index, index, entry_id=entry_id, refused=refused),
    LINES,
    st.integers(min_value=0, max_value=10**6) | st.none(),
    st.none() | st.just("1700000000000-0"),
    st.none() | st.just((413, "PAYLOAD_TOO_LARGE", "input line is longer than 10 bytes (max_line_bytes)")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS, min_size=1, max_size=12), refusal=st.sampled_from([CANCELLED, FATAL]))
@example(records=[SourceRecord(deep(MAX_DEPTH + 1), 0, 0), SourceRecord(deep(MAX_DEPTH), 1, 1)], refusal=CANCELLED)
def test_a_block_writes_exactly_what_the_per_record_path_wrote(
    example_plugin: ModuleType, records: list[SourceRecord], refusal: tuple[int, str, str]
) -> None:
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    blocks, done, recorder, buffer = refused_in_blocks(destination, records, refusal)
    written = [(outcome, dead) for _, outcome, dead in buffer.take()]
    assert written == [per_record_path(record, refusal) for record in records]
    assert done.records == len(records) and done.exhausted and done.error is None
    assert [record for block in blocks for record, *_ in block.records] == records
    summary = recorder.summary
    assert summary.failed == summary.failures_by_type[refusal[1]] == summary.unsent_failures_by_type[refusal[1]]
    assert summary.failed == len(records)


def test_a_long_refusal_goes_in_blocks_each_within_the_room_for_rejected_records(example_plugin: ModuleType) -> None:
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    count = 3 * REFUSED_BLOCK + 7
    lines = [orjson.dumps({"type": "track", "messageId": f"m-{i}", "userId": "u"}) for i in range(count)]
    records = [SourceRecord(line, i, i) for i, line in enumerate(lines)]
    blocks, done, _, buffer = refused_in_blocks(destination, records, CANCELLED)
    assert [len(block.records) for block in blocks] == [REFUSED_BLOCK] * 3 + [7]
    assert REFUSED_BLOCK <= MAX_REJECTED_WAITING
    outcomes = [orjson.loads(outcome) for _, outcome, _ in buffer.take()]
    assert [(o["index"], o["message_id"]) for o in outcomes] == [(i, f"m-{i}") for i in range(count)]
    assert done.records == count


def test_a_refused_block_takes_room_for_each_of_its_records() -> None:
    channels = Channels(1)
    record = SourceRecord(b"{}", 0, 0)
    full = RefusedBlock([(record, None, b"{}", None, True)] * MAX_REJECTED_WAITING, *CANCELLED)
    assert channels.reject(full)
    channels.abandoned.set()  # from here on a message without room is refused at once
    one = Rejected(Item(record, None, b"{}", None, b""), 400, "PAYLOAD_VALIDATION_FAILED", "bad")
    assert not channels.reject(one)
    channels.rejected_recorded(1)
    assert channels.reject(one)
    assert not channels.reject(RefusedBlock([(record, None, b"{}", None, True)] * 2, *CANCELLED))


class QuietSource(ListSource):
    """Five records, then a pipe that stays quiet until ``resumed``, then one more."""

    def __init__(self) -> None:
        super().__init__([])
        self.quiet, self.resumed = threading.Event(), threading.Event()

    def __iter__(self) -> Iterator[SourceRecord]:
        for i in range(5):
            yield SourceRecord(orjson.dumps({"type": "track", "messageId": f"m-{i}"}), i, i)
        self.quiet.set()
        self.resumed.wait(timeout=30)
        yield SourceRecord(b'{"type":"track","messageId":"m-5"}', 5, 5)


def test_the_coordinator_takes_a_block_the_reader_could_not_hand_over(example_plugin: ModuleType) -> None:
    """A reader blocked on a quiet pipe holds a block not yet full: the coordinator takes it
    (what the reader refuses afterwards goes in its next block)."""
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    channels = Channels(1)
    preparer = Preparer(destination, Batcher(max_items=10, max_bytes=None, overhead_bytes=0), channels, RealClock())
    preparer.refusal = CANCELLED
    channels.stop.set()
    source = QuietSource()
    reader = threading.Thread(target=preparer.run, args=(source,))
    reader.start()
    assert source.quiet.wait(timeout=30)
    taken = preparer.take_refused()
    assert taken is not None and [record.index for record, *_ in taken.records] == [0, 1, 2, 3, 4]
    assert (taken.status, taken.errortype, taken.message) == CANCELLED
    assert preparer.take_refused() is None
    source.resumed.set()
    reader.join(timeout=30)
    rest = channels.results.get(timeout=30)
    assert isinstance(rest, RefusedBlock) and [record.index for record, *_ in rest.records] == [5]
    done = channels.results.get(timeout=30)
    assert isinstance(done, ReaderDone) and done.records == 6 and done.exhausted


# --- a file's rest refused a chunk at a time ---------------------------------------------------

FILE_LINES = st.one_of(
    LINES.map(lambda line: line.replace(b"\n", b"").replace(b"\r", b"")),
    st.just(b""),  # blank lines have no index
    st.just(b"x" * 1100),  # longer than the source's limit below: refused 413 by its head
)


def _lines_of(buffer: BurstBuffer) -> tuple[list[bytes], list[bytes]]:
    """Every outcome record and dead letter the recorder wrote, one line each, sorted."""
    outcomes, dead_letters = [], []
    for _, outcome, dead in buffer.take():
        outcomes.append(outcome)
        if dead is not None:
            dead_letters.append(dead)
    for block in buffer.take_blocks():
        outcomes.extend(block.results.splitlines(keepends=True))
        dead_letters.extend(block.dead_letters.splitlines(keepends=True))
    return sorted(outcomes), sorted(dead_letters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(FILE_LINES, min_size=1, max_size=12),
    sizes=st.lists(st.integers(1, 200), max_size=4),
    refusal=st.sampled_from([CANCELLED, FATAL]),
)
@example(lines=[deep(MAX_DEPTH + 1), deep(MAX_DEPTH), b'{"type":"track","messageId":"m-1"}'], sizes=[], refusal=FATAL)
def test_a_file_refused_a_chunk_at_a_time_writes_what_the_per_record_path_wrote(
    example_plugin: ModuleType, lines: list[bytes], sizes: list[int], refusal: tuple[int, str, str]
) -> None:
    """Plain lines written out by the preparer, the rest by the recorder: together, for any
    file and any chunking, exactly the lines the per-record path writes for its records."""
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    data = b"\n".join(lines) + b"\n"
    records = list(StreamSource(Trickle(data, sizes), 1000))
    source = StreamSource(Trickle(data, sizes), 1000)
    blocks, done, recorder, buffer = refused_in_blocks(destination, source, refusal, in_blocks=True)
    expected = [per_record_path(record, refusal) for record in records]
    assert _lines_of(buffer) == (
        sorted(outcome for outcome, _ in expected),
        sorted(dead for _, dead in expected if dead is not None),
    )
    assert done.records == len(records) == sum(block.count for block in blocks)
    assert done.exhausted and recorder.summary.failed == len(records)


def test_a_long_file_is_refused_in_blocks_each_within_the_room_for_rejected_records(example_plugin: ModuleType) -> None:
    destination = Destination.from_plugins([("example", example_plugin)], {"endpoint": "http://x", "token": "t"})
    count = 3 * REFUSED_BLOCK + 7
    data = b"".join(orjson.dumps({"type": "track", "messageId": f"m-{i}"}) + b"\n" for i in range(count))
    source = StreamSource(io.BytesIO(data), 1000)
    blocks, done, _, buffer = refused_in_blocks(destination, source, CANCELLED, in_blocks=True)
    assert all(block.count <= REFUSED_BLOCK + 1 for block in blocks)  # the first record comes on its own
    assert sum(block.rendered is not None for block in blocks) >= 3
    outcomes = sorted((orjson.loads(line) for line in _lines_of(buffer)[0]), key=lambda o: o["index"])
    assert [(o["index"], o["message_id"]) for o in outcomes] == [(i, f"m-{i}") for i in range(count)]
    assert done.records == count
