"""The batcher: limits, and one open batch per kind for destinations with several request
kinds (``DestinationSpec.batch_key``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from deliverator._delivery.batching import Batcher
from deliverator._delivery.items import Item
from deliverator._delivery.sources import SourceRecord


def item(index: int, kind: str = "a") -> Item:
    payload = {"kind": kind, "n": index}
    return Item(SourceRecord(raw=b"", index=index, token=index), None, b"", payload, orjson.dumps(payload))


def kind_of(payload: Mapping[str, Any]) -> str:
    return str(payload["kind"])


def test_without_a_key_items_share_batches_in_order() -> None:
    batcher = Batcher(max_items=2, max_bytes=None, overhead_bytes=2)
    closed = [batch for n in range(5) for batch in batcher.add(item(n, "ab"[n % 2]), 0.0)]
    assert [[i.index for i in batch] for batch in closed] == [[0, 1], [2, 3]]
    assert [i.index for i in batcher.flush() or []] == [4]


def test_items_of_different_kinds_never_share_a_batch() -> None:
    batcher = Batcher(max_items=2, max_bytes=None, overhead_bytes=2, key=kind_of)
    kinds = "baaba"
    closed = [batch for n, kind in enumerate(kinds) for batch in batcher.add(item(n, kind), float(n))]
    assert [[i.index for i in batch] for batch in closed] == [[1, 2], [0, 3]]
    batcher.add(item(5, "b"), 5.0)
    assert len(batcher) == 2
    rest = batcher.flush_all()
    assert sorted([i.index for i in batch] for batch in rest) == [[4], [5]]
    assert len(batcher) == 0 and batcher.opened_at is None


def test_flush_closes_the_oldest_open_batch_first() -> None:
    batcher = Batcher(max_items=10, max_bytes=None, overhead_bytes=2, key=kind_of)
    batcher.add(item(0, "b"), 5.0)
    batcher.add(item(1, "a"), 7.0)
    assert batcher.opened_at == 5.0
    assert [i.index for i in batcher.flush() or []] == [0]
    assert batcher.opened_at == 7.0


def test_the_byte_limit_applies_to_each_kind_on_its_own() -> None:
    size = len(item(0).encoded)
    batcher = Batcher(max_items=100, max_bytes=2 + size * 2 + 1, overhead_bytes=2, key=kind_of)
    closed = [batch for n, kind in enumerate("abab") for batch in batcher.add(item(n, kind), 0.0)]
    assert closed == []
    closed = list(batcher.add(item(4, "a"), 0.0))
    assert [[i.index for i in batch] for batch in closed] == [[0, 2]]


@given(st.lists(st.sampled_from("xyz"), max_size=60), st.integers(min_value=1, max_value=7))
def test_every_item_ends_in_exactly_one_batch_of_one_kind(kinds: list[str], max_items: int) -> None:
    batcher = Batcher(max_items=max_items, max_bytes=None, overhead_bytes=2, key=kind_of)
    batches = [batch for n, kind in enumerate(kinds) for batch in batcher.add(item(n, kind), 0.0)]
    batches += batcher.flush_all()
    assert sorted(i.index for batch in batches for i in batch) == list(range(len(kinds)))
    assert all(len({i.payload["kind"] for i in batch}) == 1 and len(batch) <= max_items for batch in batches)
