"""The files of a run: which ones, refusing the dangerous combinations, and opening them with
the journal that makes a file run resumable.

- ``deliver events.jsonl`` writes ``events.results.jsonl`` and, only when an event fails,
  ``events.dead-letter.jsonl``; its journal ``events.results.jsonl.journal`` lives while the run
  is unfinished, and the same command resumes it.
- Results on standard output (``--results -``) or input from standard input: no journal, no
  resuming. ``deliver -`` writes no file the user did not name: outcome records go to standard
  output unless ``--results`` names a file, dead letters only to a file named by
  ``--dead-letter``.
- Output paths that name the input, or each other (also through a symlink or a hard link),
  are refused before anything is opened for writing.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Final

import attrs
import orjson

from deliverator._delivery.filesource import StreamSource, count_records
from deliverator._delivery.journal import (
    InputFingerprint,
    Journal,
    JournaledSink,
    journal_path,
    remove_journal,
    restore_counts,
)
from deliverator._delivery.sinks import StreamSink
from deliverator._delivery.sources import OutcomeSink, OutputError
from deliverator._delivery.summary import Summary

_WRITE_BUFFER: Final = 1 << 20
"""Outcome files are written in large blocks: every write releases the GIL and can wait a
whole switch interval to get it back while the reader thread is busy."""


class RunFilesError(Exception):
    """The files named for a run cannot be used as asked (a usage error: exit 2)."""


@attrs.frozen(kw_only=True)
class RunFiles:
    """Where a run reads from and writes to (None: standard input / output / nowhere)."""

    input: Path | None
    results: Path | None
    dead_letters: Path | None

    @property
    def journal(self) -> Path | None:
        """The journal's path, for a run that can resume (file in, file out)."""
        if self.input is None or self.results is None:
            return None
        return journal_path(self.results)


def default_files(input_path: Path | None, results: str | None, dead: str | None) -> RunFiles:
    """``events.jsonl`` -> ``events.results.jsonl`` and ``events.dead-letter.jsonl``; ``-`` for
    ``results`` means standard output. Standard input has no default file at all."""
    results_path = None if results == "-" else Path(results) if results else None
    dead_path = Path(dead) if dead else None
    if input_path is not None:
        stem = input_path.with_suffix("")
        if results is None:
            results_path = Path(f"{stem}.results.jsonl")
        if dead is None:
            dead_path = dead_letter_default(stem)
    return RunFiles(input=input_path, results=results_path, dead_letters=dead_path)


_DEAD_LETTER_STEM: Final = re.compile(r"(?P<base>.+)\.dead-letter(?:-(?P<number>[0-9]+))?")


def dead_letter_default(stem: Path) -> Path:
    """``events`` -> ``events.dead-letter.jsonl``; a replay of a dead-letter file numbers its
    own: ``events.dead-letter`` -> ``events.dead-letter-2.jsonl`` -> ``events.dead-letter-3.jsonl``
    (never ``events.dead-letter.dead-letter.jsonl``)."""
    match = _DEAD_LETTER_STEM.fullmatch(stem.name)
    if match is None:
        return Path(f"{stem}.dead-letter.jsonl")
    number = int(match["number"] or 1) + 1
    return stem.with_name(f"{match['base']}.dead-letter-{number}.jsonl")


def _same(first: Path, second: Path) -> bool:
    if first.resolve() == second.resolve():
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False  # one of them does not exist yet, and resolves elsewhere


def check_distinct(files: RunFiles) -> None:
    """Refuse output paths that name the input or each other (symlinks and hard links too)."""
    named = [
        ("the input", files.input),
        ("--results", files.results),
        ("--dead-letter", files.dead_letters),
    ]
    present = [(what, path) for what, path in named if path is not None]
    for position, (what, path) in enumerate(present):
        for other_what, other in present[position + 1 :]:
            if _same(path, other):
                raise RunFilesError(f"{other_what} {other} is the same file as {what} {path}: refusing to overwrite it")


def _open(path: Path, mode: str, buffering: int, what: str) -> IO[bytes]:
    try:
        return path.open(mode, buffering=buffering)
    except OSError as exc:
        raise RunFilesError(f"cannot open {what} {path}: {exc.strerror or exc}") from None


@attrs.define
class OpenedRun:
    """A run's source and sink, ready for :class:`~deliverator._delivery.runner.DeliveryRun`."""

    source: StreamSource
    sink: OutcomeSink
    summary: Summary
    resumable: bool
    """Stopping leaves a journal, and the same command resumes."""
    done: set[int] = attrs.field(factory=set)
    """The records an interrupted run already gave an outcome (the source skips them)."""


@contextmanager
def open_files(
    files: RunFiles, *, max_line_bytes: int, restart: bool = False, announce: Callable[[str], None] = print
) -> Iterator[OpenedRun]:
    """Open ``files`` for one run (resuming it when an interrupted run left a journal, unless
    ``restart``). Raises :class:`RunFilesError` for a usage problem."""
    check_distinct(files)
    summary = Summary()
    with ExitStack() as stack:
        # Unbuffered input: the reader reads large chunks itself, and an unbuffered stdin lets
        # a slow stream through as it arrives (see deliverator._delivery.reader.iter_lines).
        # stdin is never closed here: the reader may still be blocked reading it when the run ends.
        stream: IO[bytes] = (
            stack.enter_context(_open(files.input, "rb", 0, "the input"))
            if files.input is not None
            else open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115  # never closed: see above
        )
        journal_file = files.journal
        if journal_file is None or files.results is None or files.input is None:
            results: IO[bytes] = (
                stack.enter_context(_open(files.results, "wb", _WRITE_BUFFER, "the results file"))
                if files.results is not None
                else sys.stdout.buffer
            )
            dead = files.dead_letters
            if dead is not None:
                dead.unlink(missing_ok=True)
            opener = (lambda: stack.enter_context(dead.open("wb", buffering=_WRITE_BUFFER))) if dead else None
            sink: OutcomeSink = StreamSink(
                results, opener, "outcome records" if files.results is None else f"the results file {files.results}"
            )
            yield OpenedRun(StreamSource(stream, max_line_bytes), sink, summary, resumable=False)
            return
        # Opened (and created) before the journal, so that a results path that cannot be
        # written is reported as what it is.
        _open(files.results, "ab", 0, "the results file").close()
        journal, done = _journal(files.input, files.results, journal_file, restart, announce, summary)
        try:
            journaled = JournaledSink(files.results, files.dead_letters, journal)
        except OSError as exc:
            journal.close()
            raise RunFilesError(f"cannot open the results file {files.results}: {exc.strerror or exc}") from None
        except OutputError as exc:
            journal.close()
            raise RunFilesError(f"{exc}; run with --restart to start over") from None
        summary.resumed = len(done)
        source = StreamSource(stream, max_line_bytes, resumable=True, done=done)
        yield OpenedRun(source, journaled, summary, resumable=True, done=done)


def _journal(
    input_path: Path,
    results: Path,
    path: Path,
    restart: bool,
    announce: Callable[[str], None],
    summary: Summary,
) -> tuple[Journal, set[int]]:
    """The run's journal, new or resumed, and the records it says are done."""
    fingerprint = InputFingerprint.of(input_path)
    if restart:
        remove_journal(path)
    if path.exists():
        try:
            journal = Journal.open(path)
            recorded = journal.fingerprint
        except sqlite3.Error as exc:
            raise RunFilesError(
                f"the journal {path} cannot be read ({exc}); run with --restart to start over"
            ) from None
        if recorded != fingerprint:
            journal.close()
            raise RunFilesError(
                f"the input {input_path} changed since the interrupted run that left {path} "
                f"(size or content differs); run with --restart to start over"
            )
        done = journal.done()
        try:
            restore_counts(results, journal.results_length, summary)
        except (OSError, orjson.JSONDecodeError) as exc:
            journal.close()
            raise RunFilesError(
                f"the results file {results} does not match its journal ({exc}); run with --restart to start over"
            ) from None
        with input_path.open("rb") as counting:
            total = count_records(counting)
        announce(f"resuming: {len(done)} of {total} events already have an outcome")
        return journal, done
    try:
        return Journal.create(path, fingerprint), set()
    except (OSError, sqlite3.Error) as exc:
        raise RunFilesError(f"cannot create the journal {path}: {exc}") from None
