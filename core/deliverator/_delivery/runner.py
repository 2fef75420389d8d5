"""The coordinator of a run: it decides each event's fate and is the only one that records it.

Parts, each with one job, connected by typed messages (:mod:`.channels`): the preparer thread
(source records -> items -> batches, :mod:`.preparer`), ``concurrency`` sender threads (batch ->
request -> what happened, :mod:`.sender`), the retry schedule (:mod:`.schedule`), the outcome
recorder and the run's sink (:mod:`.recorder`, :mod:`.sources`), and how a run stops
(:mod:`.stopping`). This coordinator runs on the calling thread and owns the decisions: every
record read ends in exactly one outcome, or, when a resumable run stops, in none (it is
released to its source); an item that succeeded is never sent again; only retryable failures
are re-sent, each item with its own attempt counter. One injected clock measures every wait.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import IO, Any, Final

import attrs
import orjson

from deliverator._classification import Action, Classification
from deliverator._clock import Clock, RealClock
from deliverator._defaults import describe_response
from deliverator._delivery.batching import Batcher
from deliverator._delivery.channels import (
    Channels,
    Message,
    ReaderBlocked,
    ReaderDone,
    RefusedBlock,
    Rejected,
    Sent,
    Skipped,
    Unsent,
)
from deliverator._delivery.committer import Burst, BurstBuffer, Committer
from deliverator._delivery.concurrency import AdaptiveConcurrency, ConcurrencyLimiter, FixedConcurrency
from deliverator._delivery.filesource import StreamSource
from deliverator._delivery.items import Failure, Item
from deliverator._delivery.preparer import Preparer
from deliverator._delivery.recorder import OutcomeRecorder
from deliverator._delivery.schedule import RetrySchedule
from deliverator._delivery.sender import Sender
from deliverator._delivery.sources import OutcomeSink, OutputError, Source
from deliverator._delivery.stopping import Stop, StopKind
from deliverator._delivery.summary import Summary
from deliverator._destination import Destination
from deliverator._errorcodes import ErrorCode
from deliverator._errorhandling import ErrorHandlerConfig, RequestPacer, RetryPolicy
from deliverator._http import HttpClient, HttpResponse
from deliverator._multistatus import ErrorResponse, IgnoredResponse, MultiStatusResponse, SuccessResponse
from deliverator._responsetext import body_for_outcome

_PROGRESS_EVERY_S: Final = 0.2
_READER_QUIET_S: Final = 1.0
_MAX_BURST: Final = 2048
"""Messages handled between two commits of the sink."""
_CANCELLED: Final = ErrorCode.CANCELLED.value


@attrs.frozen(kw_only=True)
class RunOptions:
    """How a run batches and paces itself (from ``[delivery]``)."""

    batch_size: int
    concurrency: int = 4
    """Sender threads: the requests in flight at once, or the ceiling of the adaptive limit."""
    adaptive_concurrency: bool = False
    """Whether the requests in flight adapt to the destination (:mod:`.concurrency`)."""
    linger_s: float = 1.0
    max_line_bytes: int = 4 * 1024 * 1024
    cancel_grace_s: float = 15.0


ProgressCallback = Callable[[Summary, int], None]


class DeliveryRun:
    """Delivers one source to one destination, recording outcomes in one sink."""

    def __init__(
        self,
        destination: Destination,
        http: HttpClient,
        options: RunOptions,
        sink: OutcomeSink,
        error_handler: ErrorHandlerConfig | None = None,
        *,
        clock: Clock | None = None,
        pacer: RequestPacer | None = None,
        progress: ProgressCallback | None = None,
        summary: Summary | None = None,
    ) -> None:
        self._destination = destination
        self._http = http
        self._options = options
        self._sink = sink
        self._burst = BurstBuffer()
        self._recorder = OutcomeRecorder(self._burst, summary)
        self._clock = clock or RealClock()
        self._config = error_handler or ErrorHandlerConfig()
        self._policy = RetryPolicy(self._config, self._clock, fallback=destination.default_backoff)
        self._pacer = pacer or RequestPacer(self._clock)
        self.limiter: ConcurrencyLimiter = (
            AdaptiveConcurrency(self._clock, options.concurrency)
            if options.adaptive_concurrency
            else FixedConcurrency(options.concurrency)
        )
        """How many requests may be in flight; the senders take a permit for each."""
        self._progress = progress
        spec = destination.spec
        self._batcher = Batcher(
            max_items=max(1, min(options.batch_size, spec.max_batch_items)),
            max_bytes=spec.max_batch_bytes,
            overhead_bytes=spec.batch_overhead_bytes,
            key=spec.batch_key,
        )
        self._channels = Channels(options.concurrency, self._batcher.max_items)
        self._uncommitted: list[threading.Event] = []
        self._schedule = RetrySchedule()
        self._cancel_requested = threading.Event()
        self._stop: Stop | None = None
        self._abandoned: set[int] = set()
        self._committer: Committer
        self._held: list[Item] = []
        self._rejections_taken = 0
        """Rejected records handled in this burst: their room is given back after the commit."""
        self._preparer: Preparer | None = None
        self._source: Source | None = None

    @property
    def summary(self) -> Summary:
        """Counts so far (final once :meth:`run` returns)."""
        return self._recorder.summary

    def cancel(self) -> None:
        """Stop reading and let in-flight requests finish (bounded by ``cancel_grace_s``).

        Unfinished events are released to a resumable source (no outcome: the next run sends
        them) and recorded 499 ``CANCELLED`` otherwise. Safe to call from a signal handler or
        another thread.
        """
        self._cancel_requested.set()

    def run(self, source: Source | IO[bytes]) -> Summary:
        """Deliver everything ``source`` holds (a :class:`Source`, or a binary stream of JSON
        lines read once); returns when every record read has an outcome or was released."""
        if not isinstance(getattr(source, "resumable", None), bool):
            source = StreamSource(source, self._options.max_line_bytes)  # type: ignore[arg-type]  # a stream
        assert not isinstance(source, IO)
        self._source = source
        channels = self._channels
        in_blocks = callable(getattr(self._sink, "add_block", None))  # a sink's optional fast path
        preparer = Preparer(self._destination, self._batcher, channels, self._clock, refuse_in_blocks=in_blocks)
        self._preparer = preparer
        threads = [threading.Thread(target=preparer.run, args=(source,), name="deliverator-reader", daemon=True)]
        for number in range(self._options.concurrency):
            sender = Sender(self._destination, self._http, channels, self._pacer, self._clock, self.limiter)
            threads.append(threading.Thread(target=sender.run, name=f"deliverator-sender-{number}", daemon=True))
        committer = Committer(self._sink, channels)
        self._committer = committer
        committer.start()
        for thread in threads:
            thread.start()
        finished = False
        try:
            finished = self._coordinate(source, threads[0])
            committer.finish()
        except OutputError as exc:
            self._output_failed(source, exc)
        finally:
            for _ in range(self._options.concurrency):
                channels.batches.put(None)
            committer.submit_end()
            self._release_senders()
            self.limiter.close()
        if self.summary.output_error is None:
            try:
                self._sink.close(finished)
            except OutputError as exc:
                self._output_failed(source, exc)
        else:
            # Already reported: the first failure is the one that says why.
            with contextlib.suppress(OutputError):
                self._sink.close(False)
        self.summary.interrupted = not finished
        return self.summary

    def _output_failed(self, source: Source, exc: OutputError) -> None:
        """Outcomes cannot be recorded: stop sending at once (nothing more that could not be
        recorded), record nothing more."""
        self._abandon(source)
        self.summary.output_error = str(exc)
        self.summary.broken_pipe = exc.broken_pipe

    def _abandon(self, source: Source) -> None:
        self._channels.stop.set()
        self._channels.abandoned.set()
        self._channels.wake()
        source.stop()

    def _coordinate(self, source: Source, reader_thread: threading.Thread) -> bool:
        """Run until every record read has a fate; True when the source was read to its end
        and none was released."""
        clock = self._clock
        channels = self._channels
        results = channels.results
        batcher = self._batcher
        linger = self._options.linger_s
        reader_done: ReaderDone | None = None
        carried: Message | None = None
        last_progress = clock.monotonic()
        waiting_since: float | None = None  # when the reader was first seen blocked on input
        waiting_at = 0  # ... having read this many bytes
        committer = self._committer
        while True:
            if committer.error is not None:
                raise committer.error  # outcomes cannot be recorded: stop at once
            now = clock.monotonic()
            if self._cancel_requested.is_set() and self._stop is None:
                self._begin_stop(Stop.cancel(now + self._options.cancel_grace_s, source.resumable))
            stop = self._stop
            if stop is None:
                self._release_due_retries(now, flush=reader_done is not None)
                opened = batcher.opened_at
                if opened is not None and reader_done is not None:
                    for batch in batcher.flush_all():
                        self._dispatch(batch)
                elif opened is not None and now - opened >= linger:
                    self._dispatch(batcher.flush())
            if reader_done is not None and channels.outstanding == 0 and not self._schedule and not len(batcher):
                break
            if stop is not None:
                # A reader blocked on a quiet pipe (stdin) cannot be woken: once it has waited
                # there for a second it is not waited for. Any other reader is.
                bytes_read = getattr(source, "bytes_read", 0)
                if reader_done is None and getattr(source, "waiting_for_input", False):
                    if waiting_since is None or bytes_read != waiting_at:
                        waiting_since, waiting_at = now, bytes_read
                else:
                    waiting_since = None
                reader_quiet = reader_done is not None or (
                    waiting_since is not None and now - waiting_since >= _READER_QUIET_S
                )
                # The grace bounds the wait for requests in flight: once it is over they are
                # given up (released or recorded as the stop says). Stopping ends when nothing
                # is in flight and the reader is done or quiet; a reader that records the
                # unread records (stdin cancelled, a fatal answer) is waited for, since each
                # record must get its outcome.
                if now >= stop.deadline and channels.outstanding:
                    self._give_up_in_flight()
                if channels.outstanding == 0 and reader_quiet:
                    if carried is not None:
                        channels.results.put(carried)  # _give_up drains the queue to its end
                    self._give_up(reader_thread)
                    break
            idle = channels.outstanding == 0 and (reader_done is not None or channels.reader_blocked)
            if carried is not None:
                message, carried = carried, None
            else:
                try:
                    message = clock.get(results, self._timeout(now, reader_done is not None), idle)
                except queue.Empty:
                    continue
            # One burst: what has arrived, up to a bound (the preparer keeps sending rejections
            # as fast as they are taken, and the sink holds a burst until its commit).
            for _ in range(_MAX_BURST):
                if type(message) is ReaderDone:
                    reader_done = message
                    self._reader_done(message)
                else:
                    self._handle(message)
                try:
                    message = results.get_nowait()
                except queue.Empty:
                    break
            else:
                carried = message  # not handled yet: it leads the next burst
            self._commit()
            if self._progress is not None:
                wall = clock.monotonic()
                if wall - last_progress >= _PROGRESS_EVERY_S:
                    last_progress = wall
                    self._feed_progress(source)
                    self._progress(self.summary, getattr(source, "bytes_read", 0))
        self._commit()
        if self._progress is not None:
            self._feed_progress(source)
            self._progress(self.summary, getattr(source, "bytes_read", 0))
        return reader_done is not None and reader_done.exhausted and not self.summary.released

    def _commit(self) -> None:
        """Hand the burst just decided to the committer (raises OutputError once the sink
        has failed)."""
        outcomes, blocks = self._burst.take(), self._burst.take_blocks()
        if outcomes or blocks or self._uncommitted or self._rejections_taken:
            burst = Burst(outcomes, self._uncommitted, self._rejections_taken, blocks)
            self._uncommitted, self._rejections_taken = [], 0
            self._committer.submit(burst)

    def _feed_progress(self, source: Source) -> None:
        """The live state the progress display reads besides the counts (Summary's live fields)."""
        summary = self.summary
        summary.read = getattr(source, "records_read", 0)
        summary.expected = source.total
        summary.waiting_retry = len(self._schedule)
        due = self._schedule.next_due()
        summary.next_retry_s = None if due is None else max(0.0, due - self._clock.monotonic())
        summary.paced_rate = self._pacer.current_rate

    def _release_senders(self) -> None:
        """The run is over: no sender waits for a commit any more."""
        for committed in self._uncommitted:
            committed.set()
        self._uncommitted.clear()

    def _timeout(self, now: float, reader_done: bool) -> float | None:
        deadlines = []
        due = self._schedule.next_due()
        if due is not None and self._stop is None:
            deadlines.append(due)
        opened = self._batcher.opened_at
        if opened is not None and not reader_done:
            deadlines.append(opened + self._options.linger_s)
        if self._stop is not None:
            deadlines.append(now + 0.1)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    # --- messages -------------------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        kind = type(message)
        if kind is Sent:
            assert isinstance(message, Sent)
            if message.committed is not None:
                self._uncommitted.append(message.committed)
            if id(message.batch) in self._abandoned:
                return
            self._channels.settle(message.batch)
            self._on_sent(message.batch, message.response, message.error, message.classification, message.statuses)
        elif kind is Rejected:
            assert isinstance(message, Rejected)
            self._rejections_taken += 1
            self._recorder.failed(message.item, message.status, message.errortype, message.message)
        elif kind is RefusedBlock:
            assert isinstance(message, RefusedBlock)
            self._rejections_taken += message.count
            self._recorder.refused(message)
        elif kind is Skipped:
            assert isinstance(message, Skipped)
            self._rejections_taken += 1
            self._recorder.ignored(message.item, 200, message.reason, None)
        elif kind is Unsent:
            assert isinstance(message, Unsent)
            if id(message.batch) in self._abandoned:
                return
            self._channels.settle(message.batch)
            if self._stop is None:
                # A sender met an answer that stops the run, and that answer is still on its
                # way here: these wait for it.
                self._held.extend(message.batch)
                return
            for item in message.batch:
                self._unfinished(item)
        else:
            assert kind is ReaderBlocked, f"unexpected message {message!r}"

    def _reader_done(self, message: ReaderDone) -> None:
        self.summary.input_error = message.error
        if self._stop is not None:
            self._unfinish_batcher()
        else:
            for batch in self._batcher.flush_all():
                self._dispatch(batch)

    def _on_sent(
        self,
        batch: list[Item],
        response: HttpResponse | None,
        error: BaseException | None,
        classification: Classification,
        statuses: MultiStatusResponse | None,
    ) -> None:
        summary = self.summary
        summary.requests += 1
        action = classification.action
        if action is Action.SUCCESS and statuses is not None:
            self._record_items(batch, response, statuses)
            return
        failure = self._request_failure(classification, response, error)
        if classification.stops_run and self._stop is None:
            for item in batch:
                self._fail(item, failure, sent=_as_sent(item))
            self._stop_for(failure)
            return
        if action is Action.RETRY or action is Action.RATE_LIMITED:
            if action is Action.RATE_LIMITED:
                summary.rate_limited += 1
            for item in batch:
                self._retry(item, failure, response, error)
        elif action is Action.IGNORE:
            status = response.status if response is not None else failure.status
            for item in batch:
                self._recorder.ignored(item, status, classification.errormessage, failure.body, item.payload)
        elif action is Action.SPLIT and len(batch) > 1:
            if self._stop is not None:
                for item in batch:
                    self._unfinished(item)
                return
            middle = len(batch) // 2
            self._dispatch(batch[:middle])
            self._dispatch(batch[middle:])
        else:
            if action is Action.SPLIT:
                failure = attrs.evolve(
                    failure,
                    status=classification.status or 413,
                    errortype=classification.errortype or ErrorCode.PAYLOAD_TOO_LARGE,
                )
            for item in batch:
                self._fail(item, failure, sent=_as_sent(item))

    def _record_items(self, batch: list[Item], response: HttpResponse | None, statuses: MultiStatusResponse) -> None:
        recorder = self._recorder
        for position, item in enumerate(batch):
            result = statuses.get(position)
            if result is None:
                self._fail(
                    item,
                    Failure(
                        500, ErrorCode.UNKNOWN_ERROR, f"the destination gave no result for item {position} of the batch"
                    ),
                    sent=_as_sent(item),
                )
            elif type(result) is SuccessResponse:
                recorder.delivered(item, result.status, result.sent, result.body)
            elif type(result) is IgnoredResponse:
                recorder.ignored(item, result.status, result.reason, result.body, _as_sent(item, result.sent))
            else:
                assert isinstance(result, ErrorResponse)
                failure = Failure(result.status, result.errortype, result.errormessage, result.body)
                if result.retryable:
                    self._retry(item, failure, response, None, at_least_s=result.retry_after_s or 0.0)
                else:
                    self._fail(item, failure, sent=_as_sent(item, result.sent))

    def _request_failure(
        self, classification: Classification, response: HttpResponse | None, error: BaseException | None
    ) -> Failure:
        status = classification.status or (response.status if response is not None else 502)
        errortype = classification.errortype or ErrorCode.for_status(status)
        if classification.errormessage:
            message = classification.errormessage
        elif response is not None:
            message = describe_response(response)
        else:
            message = f"{type(error).__name__}: {error}" if error is not None else "no response"
        body = body_for_outcome(response) if response is not None else None
        return Failure(status, errortype, message, body)

    # --- fates ----------------------------------------------------------------------------

    def _fail(self, item: Item, failure: Failure, sent: Any = None) -> None:
        self._recorder.failed(item, failure.status, failure.errortype.value, failure.errormessage, sent, failure.body)

    def _retry(
        self,
        item: Item,
        failure: Failure,
        response: HttpResponse | None,
        error: BaseException | None,
        at_least_s: float = 0.0,
    ) -> None:
        item.last_failure = failure
        if self._stop is not None:
            self._unfinished(item)
            return
        if not self._policy.allows_retry(item.retries + 1):
            self._fail(
                item,
                attrs.evolve(failure, errormessage=f"{failure.errormessage} (gave up after {item.attempts} attempts)"),
                sent=_as_sent(item),
            )
            return
        now = self._clock.monotonic()
        decision = self._policy.next_wait(
            retry_number=item.retries + 1,
            response=response,
            error=error,
            first_attempt_at=item.first_sent_at if item.first_sent_at is not None else now,
            at_least_s=at_least_s,
        )
        if decision.give_up:
            self._fail(
                item,
                attrs.evolve(failure, errormessage=f"{failure.errormessage}; {decision.give_up}"),
                sent=_as_sent(item),
            )
            return
        item.retries += 1
        self.summary.retried_items += 1
        self._schedule.push(item, now + decision.seconds)
        self._channels.waiting(1)

    def _release_due_retries(self, now: float, flush: bool) -> None:
        released = 0
        add = self._batcher.add
        for item in self._schedule.pop_due(now):
            released += 1
            for batch in add(item, now):
                self._dispatch(batch)
        if released:
            self._channels.waiting(-released)
            if flush:
                for batch in self._batcher.flush_all():
                    self._dispatch(batch)

    def _dispatch(self, batch: list[Item] | None) -> None:
        if not batch:
            return
        if self._stop is not None or not self._channels.dispatch(batch):
            for item in batch:
                self._unfinished(item)

    # --- stopping -------------------------------------------------------------------------

    def _unfinished(self, item: Item) -> None:
        """``item`` has no fate and the run is stopping: release it, cancel it or fail it, as
        the way the run stops says."""
        stop = self._stop
        assert stop is not None, "an item left unfinished while the run is not stopping"
        if stop.kind is StopKind.RELEASE:
            self.summary.released += 1
            return
        last = item.last_failure
        detail = f"; last error: {last.errormessage}" if last is not None else ""
        self._recorder.failed(
            item,
            stop.status,
            stop.errortype,
            f"{stop.message}{detail}",
            _as_sent(item) if item.attempts else None,
            last.body if last is not None else None,
        )

    def _begin_stop(self, stop: Stop) -> None:
        self._stop = stop
        self.summary.cancelled = stop.cancelled
        preparer, source = self._preparer, self._source
        assert preparer is not None and source is not None
        preparer.refusal = stop.refusal
        channels = self._channels
        channels.stop.set()
        channels.wake()
        if stop.refusal is None:
            source.stop()
        waiting = self._schedule.drain()
        if waiting:
            channels.waiting(-len(waiting))
        for item in waiting:
            self._unfinished(item)
        self._unfinish_batcher()
        held, self._held = self._held, []
        for item in held:
            self._unfinished(item)
        while True:
            try:
                batch = channels.batches.get_nowait()
            except queue.Empty:
                break
            if batch is not None:
                channels.settle(batch)
                for item in batch:
                    self._unfinished(item)

    def _stop_for(self, failure: Failure) -> None:
        """An answer says every further request would fail the same way: stop sending, and
        fail every event not sent with that answer's status."""
        reason = f"the destination answered {failure.status} {failure.errortype.value}: {failure.errormessage}"
        self.summary.stopped_because = reason
        deadline = self._clock.monotonic() + self._options.cancel_grace_s
        if getattr(self._source, "endless", False):
            # A queue never runs out: failing everything unsent would dead-letter the whole
            # stream for one bad API key. What was answered is recorded; the rest stays pending.
            self._begin_stop(Stop(kind=StopKind.RELEASE, deadline=deadline, cancelled=False))
            return
        self._begin_stop(Stop.fatal(deadline, failure.status, failure.errortype.value, reason))

    def _unfinish_batcher(self) -> None:
        for batch in self._batcher.flush_all():
            for item in batch:
                self._unfinished(item)

    def _give_up_in_flight(self) -> None:
        """The grace is over: requests still in flight are not waited for."""
        for batch in self._channels.unsettled():
            self._abandoned.add(id(batch))
            for item in batch:
                self._unfinished(item)

    def _give_up(self, reader_thread: threading.Thread) -> None:
        # The reader stops at its next record; give it a moment so nothing it holds is lost
        # (it may be blocked on a slow stdin, which is why this is bounded).
        reader_thread.join(timeout=1.0)
        self._channels.abandoned.set()
        assert self._preparer is not None
        refused = self._preparer.take_refused()  # read before the pipe went quiet: recorded
        if refused is not None:
            self._handle(refused)
        while True:
            self._unfinish_batcher()
            self._give_up_in_flight()
            try:
                message = self._channels.results.get_nowait()
            except queue.Empty:
                return
            if type(message) is ReaderDone:
                assert isinstance(message, ReaderDone)
                self.summary.input_error = message.error
            else:
                self._handle(message)


def _as_sent(item: Item, sent: Any = None) -> Any:
    """What an outcome's ``sent`` holds: the destination's own account when it gave a different
    one, else the item as posted, as the bytes already encoded (no second encoding)."""
    if sent is None or sent is item.payload:
        return orjson.Fragment(item.encoded)
    return sent
