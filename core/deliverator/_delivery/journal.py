"""The journal of a durable file run: which records already have an outcome, and how much of
the results and dead-letter files holds committed records.

SQLite in WAL mode (stdlib ``sqlite3``), in a file beside the results file. Each burst of
outcome records is written to the output files first and then committed to the journal in one
transaction, together with the files' new lengths. After a crash (kill -9 at any moment) the
next run truncates both files to the committed lengths (which repairs a torn last line and drops
records whose commit never happened), skips the committed records, and sends only the rest:
at most the requests that were in flight are sent twice, with the same dedup ids. When every
record has an outcome the journal is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Final

import attrs
import orjson

from deliverator._delivery.pending import PendingOutcomes
from deliverator._delivery.sinks import output_error
from deliverator._delivery.sources import OutputError
from deliverator._delivery.summary import Summary

_SAMPLE: Final = 1 << 20
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # One row per commit: the records it covered (index ranges, JSON) and the files' lengths
    # after it. One statement, so one transaction, per burst of outcomes.
    "CREATE TABLE IF NOT EXISTS commits (id INTEGER PRIMARY KEY, ranges BLOB NOT NULL,"
    " results_length INTEGER NOT NULL, dead_letters_length INTEGER NOT NULL)",
)
_WRITE_BUFFER: Final = 1 << 20


def journal_path(results: Path) -> Path:
    """Where the journal of a run writing ``results`` lives."""
    return results.with_name(results.name + ".journal")


def remove_journal(path: Path) -> None:
    """Delete a journal and SQLite's companion files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@attrs.frozen
class InputFingerprint:
    """What identifies an input file's content cheaply: its size and a hash of its first and
    last MiB (a changed record almost always changes one of them, or the size)."""

    size: int
    digest: str

    @classmethod
    def of(cls, path: Path) -> InputFingerprint:
        """The fingerprint of the file at ``path``."""
        digest = hashlib.blake2b(digest_size=16)
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            digest.update(stream.read(_SAMPLE))
            if size > 2 * _SAMPLE:
                stream.seek(size - _SAMPLE)
            digest.update(stream.read(_SAMPLE))
        return cls(size, digest.hexdigest())


def index_ranges(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted indices as inclusive (first, last) runs: a file run's outcomes come mostly in
    order, so a burst of thousands is usually a handful of rows."""
    if not indices:
        return []
    indices.sort()
    runs: list[tuple[int, int]] = []
    first = last = indices[0]
    for index in indices[1:]:
        if index == last + 1:
            last = index
        else:
            runs.append((first, last))
            first = last = index
    runs.append((first, last))
    return runs


class Journal:
    """One run's journal (see the module docstring)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def _connect(cls, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
        return db

    @classmethod
    def create(cls, path: Path, fingerprint: InputFingerprint) -> Journal:
        """A new journal for a run over an input with ``fingerprint``."""
        remove_journal(path)
        db = cls._connect(path)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("input_size", str(fingerprint.size)), ("input_digest", fingerprint.digest)],
        )
        return cls(path, db)

    @classmethod
    def open(cls, path: Path) -> Journal:
        """The journal an interrupted run left at ``path``."""
        return cls(path, cls._connect(path))

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise sqlite3.DatabaseError(f"the journal has no {key!r}")
        return str(row[0])

    @property
    def fingerprint(self) -> InputFingerprint:
        """The input's fingerprint when the run started."""
        return InputFingerprint(int(self._meta("input_size")), self._meta("input_digest"))

    def _lengths(self) -> tuple[int, int]:
        row = self._db.execute(
            "SELECT results_length, dead_letters_length FROM commits ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    @property
    def results_length(self) -> int:
        """Bytes of the results file that hold committed records."""
        return self._lengths()[0]

    @property
    def dead_letters_length(self) -> int:
        """Bytes of the dead-letter file that hold committed records."""
        return self._lengths()[1]

    def done(self) -> set[int]:
        """Indices of the records that have a committed outcome."""
        done: set[int] = set()
        for (ranges,) in self._db.execute("SELECT ranges FROM commits"):
            for first, last in orjson.loads(ranges):
                done.update(range(first, last + 1))
        return done

    def commit(self, indices: list[int], results_length: int, dead_letters_length: int) -> None:
        """Record, in one transaction, that ``indices`` have outcomes and the files' lengths."""
        self._db.execute(
            "INSERT INTO commits (ranges, results_length, dead_letters_length) VALUES (?, ?, ?)",
            (orjson.dumps(index_ranges(indices)), results_length, dead_letters_length),
        )

    def close(self) -> None:
        """Close the database (the journal stays)."""
        self._db.close()


def restore_counts(results: Path, length: int, summary: Summary) -> None:
    """Count the committed records of an interrupted run's results file into ``summary`` (the
    journal does not keep counts: the records are the truth)."""
    with results.open("rb") as stream:
        for line in stream:
            if length <= 0:
                break  # after the committed length: torn or uncommitted, truncated on opening
            length -= len(line)
            _count(orjson.loads(line), summary)


def _count(record: dict[str, object], summary: Summary) -> None:
    outcome = record.get("outcome")
    if outcome == "delivered":
        summary.delivered += 1
    elif outcome == "ignored":
        summary.ignored += 1
    else:
        summary.failed += 1
        errortype = str(record.get("errortype"))
        summary.failures_by_type[errortype] += 1
        if not record.get("attempts"):
            summary.unsent_failures_by_type[errortype] += 1


def _truncated(path: Path, length: int, what: str) -> IO[bytes]:
    """``path`` opened for appending after its first ``length`` bytes (what the journal says
    is committed: anything after it is a torn line or an uncommitted record)."""
    stream = path.open("r+b", buffering=_WRITE_BUFFER)
    size = stream.seek(0, os.SEEK_END)
    if size < length:
        stream.close()
        raise OutputError(f"the {what} {path} is shorter than its journal says ({size} < {length} bytes)")
    stream.truncate(length)
    stream.seek(length)
    return stream


class JournaledSink(PendingOutcomes):
    """The sink of a durable file run: outcome files plus the journal that makes them resumable."""

    def __init__(self, results: Path, dead_letters: Path | None, journal: Journal) -> None:
        self._journal = journal
        self._dead_path = dead_letters
        results_length = journal.results_length
        self._results = (
            _truncated(results, results_length, "results file")
            if results_length
            else results.open("wb", buffering=_WRITE_BUFFER)
        )
        self._results_length = results_length
        dead_length = journal.dead_letters_length
        self._dead: IO[bytes] | None = None
        if dead_letters is not None and dead_length:
            self._dead = _truncated(dead_letters, dead_length, "dead-letter file")
        elif dead_letters is not None:
            dead_letters.unlink(missing_ok=True)  # an earlier run's: created again only if something fails
        self._dead_length = dead_length
        super().__init__()

    def commit(self) -> None:
        """Write the buffered records to the files, then commit them to the journal."""
        indices, lines, dead_lines = self.take()
        if not indices:
            return
        what = "the results file"
        try:
            self._results_length += self._write(self._results, lines)
            if dead_lines:
                what = "the dead-letter file"
                if self._dead is None:
                    assert self._dead_path is not None
                    self._dead = self._dead_path.open("wb", buffering=_WRITE_BUFFER)
                self._dead_length += self._write(self._dead, dead_lines)
            what = "the journal"
            self._journal.commit(indices, self._results_length, self._dead_length)
        except OSError as exc:
            raise output_error(exc, what) from None
        except sqlite3.Error as exc:
            raise OutputError(f"cannot write the journal {self._journal.path}: {exc}") from None

    @staticmethod
    def _write(stream: IO[bytes], lines: Iterable[bytes]) -> int:
        data = b"".join(lines)
        stream.write(data)
        stream.flush()
        return len(data)

    def close(self, finished: bool) -> None:
        """Commit what is left; remove the journal when every record has its outcome."""
        try:
            self.commit()
        finally:
            for stream in (self._results, self._dead):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a flush that failed was reported by commit
                        stream.close()
            self._journal.close()
        if finished:
            remove_journal(self._journal.path)

    @property
    def dead_letters_written(self) -> bool:
        """Whether the dead-letter file exists (something failed, in this run or before)."""
        return self._dead is not None
