"""A delivery process of a run over several processes (``python -m`` this module, started by
:mod:`deliverator._delivery.shards`).

It runs the whole delivery loop over its share of the file (:class:`~.sharding.ShareOf`) and
hands every burst of outcome lines to the parent, which writes them and commits the journal;
only then does :meth:`ParentSink.commit` return, so this process's senders wait for their
answers' commit exactly as in a one-process run. It never outlives the parent: a pipe whose
other end only the parent holds reads end-of-file when the parent is gone, and the process ends
at once (what it had in flight has no outcome, so the resumed run sends it again).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from multiprocessing.connection import Connection
from types import FrameType
from typing import Final

from deliverator._delivery.filesource import StreamSource
from deliverator._delivery.pending import PendingOutcomes
from deliverator._delivery.sharding import BURST, COMMITTED, DONE, FAILED, PROGRESS, ShardTask, ShareOf
from deliverator._delivery.sources import OutputError
from deliverator._delivery.summary import Summary
from deliverator._gcpolicy import fewer_collections

ORPHANED: Final = 75
"""The exit status of a delivery process whose parent went away."""


class ParentSink(PendingOutcomes):
    """The outcome sink of a delivery process: bursts go to the parent, which commits them."""

    def __init__(self, conn: Connection, lock: threading.Lock) -> None:
        super().__init__()
        self._conn = conn
        self._lock = lock

    def commit(self) -> None:
        """Hand what was added to the parent and wait until it is committed."""
        indices, lines, dead_lines = self.take()
        if not indices:
            return
        message = (BURST, indices, b"".join(lines), b"".join(dead_lines))
        try:
            with self._lock:
                self._conn.send(message)
            answer = self._conn.recv()
        except (EOFError, OSError):
            raise OutputError("the deliverator process that records outcomes is gone") from None
        if answer[0] != COMMITTED:
            _, reason, broken_pipe = answer
            raise OutputError(reason, broken_pipe=broken_pipe)

    def close(self, finished: bool) -> None:
        """Commit what is left (the parent closes the files)."""
        self.commit()


def _watch_parent(lifeline: int) -> None:
    """End this process as soon as the parent is gone (its end of ``lifeline`` closes)."""

    def watch() -> None:
        while os.read(lifeline, 1):
            pass
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="deliverator-lifeline", daemon=True).start()


def run(conn: Connection) -> int:
    """Run the share the parent sends; returns the exit status."""
    from deliverator._pipeline import Pipeline  # after the lifeline is watched: loading takes a while

    task: ShardTask = conn.recv()
    lock = threading.Lock()
    pipeline: Pipeline | None = None
    cancelled = False

    def cancel(signum: int, frame: FrameType | None) -> None:
        nonlocal cancelled
        cancelled = True
        if pipeline is not None:
            pipeline.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, cancel)

    def progress(summary: Summary, bytes_read: int) -> None:
        try:
            with lock:
                conn.send((PROGRESS, summary, bytes_read))
        except OSError:
            pass  # the parent is gone: the lifeline ends this process

    try:
        pipeline = Pipeline(task.config, progress=progress)
        stream = open(task.input, "rb", buffering=0)  # noqa: SIM115  # closed below
    except Exception as exc:  # the parent loaded the same configuration: this is not expected
        conn.send((FAILED, f"{type(exc).__name__}: {exc}"))
        return 1
    if cancelled:
        pipeline.cancel()  # a signal that came while it was loading: the run starts stopped
    source = StreamSource(
        stream, pipeline.options.max_line_bytes, resumable=True, done=ShareOf(task.number, task.count, task.done)
    )
    with stream, fewer_collections():
        summary = pipeline.run(source, ParentSink(conn, lock))
    with lock:
        conn.send((DONE, summary))
    return 0


def main(argv: list[str]) -> int:
    """``python -m deliverator._delivery.shard_process CONNECTION_FD LIFELINE_FD INPUT``
    (``INPUT`` only names the run for ``ps``)."""
    connection, lifeline = int(argv[1]), int(argv[2])
    _watch_parent(lifeline)
    with Connection(connection) as conn:
        return run(conn)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
