"""Checking that a run did the whole job, so that no rate is reported for half the work.

Outcome files are read as a stream: the 10 x N run writes gigabytes.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any

import orjson


def tally_outcomes(results: Path) -> Counter[str]:
    """How many outcome records say ``delivered``, ``failed`` and ``ignored``, plus ``lines``."""
    tally: Counter[str] = Counter()
    with results.open("rb") as lines:
        for line in lines:
            if line.strip():
                tally["lines"] += 1
                tally[str(orjson.loads(line).get("outcome"))] += 1
    return tally


def sent_by_index(results: Path, limit: int) -> dict[int, Any]:
    """``index -> sent`` for the first ``limit`` records of an outcome file."""
    with results.open("rb") as lines:
        records = (orjson.loads(line) for line in islice(lines, limit))
        return {record["index"]: record.get("sent") for record in records}


def differing_items(first: Path, second: Path, limit: int = 5_000) -> list[int]:
    """Indexes (among the first ``limit`` records of ``first``) whose ``sent`` item differs in
    ``second``: proof that two runners built the same Customer.io items."""
    ours = sent_by_index(first, limit)
    theirs: dict[int, Any] = {}
    with second.open("rb") as lines:  # order across batches differs: scan until all are found
        for line in lines:
            record = orjson.loads(line)
            if record["index"] in ours:
                theirs[record["index"]] = record.get("sent")
                if len(theirs) == len(ours):
                    break
    return sorted(index for index, item in ours.items() if theirs.get(index, ...) != item)
