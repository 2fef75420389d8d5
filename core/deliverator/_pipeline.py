"""The library entry point: a delivery run composed without the command line.

An Airflow task, a service or a test embeds a run with :func:`deliver` (files, as the
``deliver`` command does them, journal and resuming included) or a :class:`Pipeline` (any
:class:`~deliverator._delivery.sources.Source` and
:class:`~deliverator._delivery.sources.OutcomeSink`, e.g. the queue mode's)::

    from deliverator import deliver

    summary = deliver("deliverator.toml", "events.jsonl")   # writes events.results.jsonl
    print(summary.line())                                   # "3 delivered, 0 failed, 0 ignored"

``Pipeline(config).run(source, sink)`` is the same loop over your own ends; ``cancel()`` (from
any thread or a signal handler) stops it: a resumable source keeps what has no outcome yet.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from deliverator._clock import Clock, RealClock
from deliverator._config import Config
from deliverator._delivery.filerun import RunFiles, default_files, open_files
from deliverator._delivery.runner import DeliveryRun, ProgressCallback, RunOptions
from deliverator._delivery.sharding import available_cpus, process_count
from deliverator._delivery.shards import ShardedRun
from deliverator._delivery.sources import OutcomeSink, Source
from deliverator._delivery.summary import Summary
from deliverator._session import batch_size, http_client, load_checked_config, open_session, request_pacer

log = logging.getLogger("deliverator")


class Pipeline:
    """A configured destination, ready to run deliveries (one at a time).

    Raises ``PluginError`` when the destination cannot be loaded and ``ConfigError`` when its
    settings are invalid. ``warnings`` holds what loading it met (an extension skipped, ...).

    Example::

        pipeline = Pipeline("deliverator.toml")
        signal.signal(signal.SIGTERM, lambda *_: pipeline.cancel())
        summary = pipeline.run(my_source, my_sink)  # any Source and OutcomeSink
    """

    def __init__(
        self,
        config: Config | str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config if isinstance(config, Config) else load_checked_config(config)
        session = open_session(self.config)
        self.destination = session.destination
        # The warnings include what ``check`` prints about this configuration (a batch size
        # over the destination's limit, ...): both come from deliverator._session.
        self.warnings: tuple[str, ...] = session.warnings
        delivery = self.config.delivery
        self.options = RunOptions(
            batch_size=batch_size(self.config, self.destination.spec),
            concurrency=delivery.sender_threads,
            adaptive_concurrency=delivery.adaptive,
            linger_s=delivery.linger_s,
            max_line_bytes=delivery.max_line_bytes,
            cancel_grace_s=delivery.cancel_grace_s,
        )
        self._clock = clock or RealClock()
        self._http = http_client(self.config)
        self._pacer = request_pacer(self.config, self._clock)
        self._progress = progress
        self._lock = threading.Lock()
        self._run: DeliveryRun | ShardedRun | None = None
        self._cancelled = False

    def run(self, source: Source | IO[bytes], sink: OutcomeSink, *, summary: Summary | None = None) -> Summary:
        """Deliver ``source`` into ``sink``; returns the summary (``summary``: counts to start
        from, e.g. those of an earlier interrupted run)."""
        run = DeliveryRun(
            self.destination,
            self._http,
            self.options,
            sink,
            self.config.error_handler,
            clock=self._clock,
            pacer=self._pacer,
            progress=self._progress,
            summary=summary,
        )
        with self._current(run):
            return run.run(source)

    @contextmanager
    def _current(self, run: DeliveryRun | ShardedRun) -> Iterator[None]:
        """``run`` is the one :meth:`cancel` stops while it runs (stopped at once if a cancel
        came before it started)."""
        with self._lock:
            self._run = run
            if self._cancelled:
                run.cancel()
        try:
            yield
        finally:
            with self._lock:
                self._run = None

    def deliver_files(
        self, files: RunFiles, *, restart: bool = False, announce: Callable[[str], None] = log.info
    ) -> Summary:
        """Deliver ``files.input`` as the ``deliver`` command does: resuming an interrupted run
        of the same files unless ``restart``; ``announce`` gets the "resuming: ..." line.

        Raises :class:`~deliverator._delivery.filerun.RunFilesError` for unusable files.
        """
        with open_files(
            files, max_line_bytes=self.options.max_line_bytes, restart=restart, announce=announce
        ) as opened:
            source = files.input if opened.resumable else None  # only a journaled run is shared
            count = process_count(self.config.delivery, source.stat().st_size, available_cpus()) if source else 1
            if source is not None and count > 1:
                announce(f"delivering with {count} processes (delivery.processes)")
                sharded = ShardedRun(self.config, source, opened, count, clock=self._clock, progress=self._progress)
                with self._current(sharded):
                    summary = sharded.run()
            else:
                summary = self.run(opened.source, opened.sink, summary=opened.summary)
            summary.resumable = opened.resumable and summary.interrupted
            return summary

    def cancel(self) -> None:
        """Stop the current run (and any started later): in-flight requests finish, events
        without an outcome are released (resumable sources) or recorded cancelled."""
        with self._lock:
            self._cancelled = True
            if self._run is not None:
                self._run.cancel()


def deliver(
    config: Config | str | os.PathLike[str],
    input: str | os.PathLike[str],
    *,
    results: str | None = None,
    dead_letters: str | None = None,
    restart: bool = False,
    announce: Callable[[str], None] = log.info,
) -> Summary:
    """Deliver the JSONL file ``input`` with the configuration ``config`` (a :class:`Config`
    or the path of its TOML file), exactly as ``deliverator deliver`` does: outcome records in
    ``results`` (default ``INPUT.results.jsonl``; ``"-"`` for standard output), failed events in
    ``dead_letters`` (default ``INPUT.dead-letter.jsonl``, created only if one fails), and a
    journal that lets the same call resume an interrupted run (``announce`` gets the
    "resuming: K of N events already have an outcome" line; default: the ``deliverator`` logger).

    Example::

        summary = deliver("deliverator.toml", "events.jsonl")
        if summary.resumable:
            ...  # stopped before the end: the same call resumes
    """
    pipeline = Pipeline(config)
    files = default_files(Path(input), results, dead_letters)
    return pipeline.deliver_files(files, restart=restart, announce=announce)
