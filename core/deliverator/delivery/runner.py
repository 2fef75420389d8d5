"""The coordinator of a run: it owns retries, timing and outcome records.

Threads: one reader (input -> batches), ``concurrency`` senders (batch -> request -> what
happened), and this coordinator on the calling thread, the only one that records outcomes.
Every input record ends in exactly one outcome; an item that succeeded is never sent again;
only retryable failures are re-sent, each item with its own attempt counter.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import attrs
import orjson

from deliverator.classification import Action, Classification
from deliverator.clock import Clock, RealClock
from deliverator.defaults import describe_response
from deliverator.delivery.batching import Batcher
from deliverator.delivery.channels import READER_DONE, REJECTED, SENT, UNSENT, Channels
from deliverator.delivery.items import Failure, Item
from deliverator.delivery.reader import Reader
from deliverator.delivery.sender import Sender
from deliverator.delivery.summary import Summary
from deliverator.delivery.writer import OutcomeWriter
from deliverator.destination import Destination
from deliverator.errorcodes import ErrorCode
from deliverator.errorhandling import ErrorHandlerConfig, RequestPacer, RetryPolicy
from deliverator.http import HttpClient, HttpResponse
from deliverator.multistatus import ErrorResponse, IgnoredResponse, MultiStatusResponse, SuccessResponse
from deliverator.responsetext import body_for_outcome

_PROGRESS_EVERY_S = 0.2
_READER_QUIET_S = 1.0


@attrs.frozen(kw_only=True)
class RunOptions:
    """How a run batches and paces itself (from ``[delivery]``)."""

    batch_size: int
    concurrency: int = 4
    linger_s: float = 1.0
    max_line_bytes: int = 4 * 1024 * 1024
    cancel_grace_s: float = 15.0


ProgressCallback = Callable[[Summary, int], None]


class DeliveryRun:
    """Delivers one input stream to one destination."""

    def __init__(
        self,
        destination: Destination,
        http: HttpClient,
        options: RunOptions,
        writer: OutcomeWriter,
        error_handler: ErrorHandlerConfig | None = None,
        *,
        clock: Clock | None = None,
        pacer: RequestPacer | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._destination = destination
        self._http = http
        self._options = options
        self._writer = writer
        self._clock = clock or RealClock()
        self._config = error_handler or ErrorHandlerConfig()
        self._policy = RetryPolicy(self._config, self._clock)
        self._pacer = pacer or RequestPacer(self._clock)
        self._progress = progress
        spec = destination.spec
        self._batcher = Batcher(
            max_items=max(1, min(options.batch_size, spec.max_batch_items)),
            max_bytes=spec.max_batch_bytes,
            overhead_bytes=spec.batch_overhead_bytes,
        )
        self._channels = Channels(options.concurrency)
        self._schedule: list[tuple[float, int, Item]] = []
        self._sequence = itertools.count()
        self._stopping = False

    @property
    def summary(self) -> Summary:
        """Counts so far (final once :meth:`run` returns)."""
        return self._writer.summary

    def cancel(self) -> None:
        """Stop reading, let in-flight requests finish (bounded), and record every unfinished
        event as cancelled. Safe to call from a signal handler or another thread."""
        self._channels.stop.set()

    def run(self, source: IO[bytes]) -> Summary:
        """Deliver everything in ``source``; returns when every record has an outcome."""
        channels = self._channels
        reader = Reader(self._destination, self._batcher, channels, self._clock, self._options.max_line_bytes)
        threads = [threading.Thread(target=reader.run, args=(source,), name="deliverator-reader", daemon=True)]
        for number in range(self._options.concurrency):
            sender = Sender(self._destination, self._http, channels, self._pacer, self._clock)
            threads.append(threading.Thread(target=sender.run, name=f"deliverator-sender-{number}", daemon=True))
        for thread in threads:
            thread.start()
        try:
            self._coordinate(reader, threads[0])
        finally:
            for _ in range(self._options.concurrency):
                channels.batches.put(None)
            self._writer.flush()
        return self.summary

    def _coordinate(self, reader: Reader, reader_thread: threading.Thread) -> None:
        clock = self._clock
        results = self._channels.results
        reader_done = False
        grace_deadline: float | None = None
        last_progress = 0.0
        reader_seen = (-1, 0.0)  # (bytes read, when that changed), to spot a reader stuck on input
        while True:
            if self._channels.stop.is_set() and not self._stopping:
                self._begin_cancel()
                grace_deadline = time.monotonic() + self._options.cancel_grace_s
            if self._stopping and reader.bytes_read != reader_seen[0]:
                reader_seen = (reader.bytes_read, time.monotonic())
            now = clock.monotonic()
            self._release_due_retries(now, flush=reader_done)
            opened = self._batcher.opened_at
            if opened is not None and (reader_done or now - opened >= self._options.linger_s):
                self._dispatch(self._batcher.flush())
            if reader_done and self._channels.outstanding == 0 and not self._schedule and not len(self._batcher):
                break
            # Stopping ends when nothing is in flight and the reader has finished, or has read
            # nothing for a second (blocked on a quiet stdin), or when the grace runs out.
            reader_quiet = reader_done or time.monotonic() - reader_seen[1] >= _READER_QUIET_S
            if grace_deadline is not None and (
                (reader_quiet and self._channels.outstanding == 0) or time.monotonic() >= grace_deadline
            ):
                self._cancel_everything_left(reader_thread)
                break
            try:
                message = clock.get(
                    results, self._timeout(now, reader_done), reader_done and self._channels.outstanding == 0
                )
            except queue.Empty:
                continue
            while True:
                reader_done = self._handle(message, reader_done)
                try:
                    message = results.get_nowait()
                except queue.Empty:
                    break
            self._writer.commit()
            if self._progress is not None:
                wall = time.monotonic()
                if wall - last_progress >= _PROGRESS_EVERY_S:
                    last_progress = wall
                    self._progress(self.summary, reader.bytes_read)
        if self._progress is not None:
            self._progress(self.summary, reader.bytes_read)

    def _timeout(self, now: float, reader_done: bool) -> float | None:
        deadlines = []
        if self._schedule:
            deadlines.append(self._schedule[0][0])
        opened = self._batcher.opened_at
        if opened is not None and not reader_done:
            deadlines.append(opened + self._options.linger_s)
        if self._stopping:
            deadlines.append(now + 0.1)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    # --- messages -------------------------------------------------------------------------

    def _handle(self, message: tuple[Any, ...], reader_done: bool) -> bool:
        kind = message[0]
        if kind is SENT:
            _, batch, response, error, classification, statuses = message
            self._channels.settle(batch)
            self._on_sent(batch, response, error, classification, statuses)
        elif kind is REJECTED:
            _, item, status, errortype, text = message
            self._writer.failed(item, status, errortype.value, text)
        elif kind is UNSENT:
            batch = message[1]
            self._channels.settle(batch)
            for item in batch:
                self._cancel(item)
        elif kind is READER_DONE:
            self.summary.input_error = message[2]
            if self._stopping:
                self._cancel_batcher()
            else:
                self._dispatch(self._batcher.flush())
            return True
        return reader_done

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
        if action is Action.RETRY or action is Action.RATE_LIMITED:
            if action is Action.RATE_LIMITED:
                summary.rate_limited += 1
            for item in batch:
                self._retry(item, failure, response, error)
        elif action is Action.IGNORE:
            status = response.status if response is not None else failure.status
            for item in batch:
                self._writer.ignored(item, status, classification.errormessage, failure.body)
        elif action is Action.SPLIT and len(batch) > 1:
            if self._stopping:
                for item in batch:
                    self._cancel(item)
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
        writer = self._writer
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
                writer.delivered(item, result.status, result.sent, result.body)
            elif type(result) is IgnoredResponse:
                writer.ignored(item, result.status, result.reason, result.body)
            else:
                assert isinstance(result, ErrorResponse)
                failure = Failure(result.status, result.errortype, result.errormessage, result.body)
                if result.retryable:
                    self._retry(item, failure, response, None)
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
        self._writer.failed(item, failure.status, failure.errortype.value, failure.errormessage, sent, failure.body)

    def _retry(self, item: Item, failure: Failure, response: HttpResponse | None, error: BaseException | None) -> None:
        item.last_failure = failure
        if self._stopping:
            self._cancel(item)
            return
        if item.retries >= self._config.max_retries:
            self._fail(
                item,
                attrs.evolve(failure, errormessage=f"{failure.errormessage} (gave up after {item.attempts} attempts)"),
                sent=_as_sent(item),
            )
            return
        decision = self._policy.next_wait(
            retry_number=item.retries + 1,
            response=response,
            error=error,
            first_attempt_at=item.first_sent_at if item.first_sent_at is not None else self._clock.monotonic(),
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
        heapq.heappush(self._schedule, (self._clock.monotonic() + decision.seconds, next(self._sequence), item))

    def _release_due_retries(self, now: float, flush: bool) -> None:
        schedule = self._schedule
        released = False
        while schedule and schedule[0][0] <= now:
            item = heapq.heappop(schedule)[2]
            released = True
            for batch in self._batcher.add(item, now):
                self._dispatch(batch)
        if released and flush:
            self._dispatch(self._batcher.flush())

    def _dispatch(self, batch: list[Item] | None) -> None:
        if not batch:
            return
        if self._stopping or not self._channels.dispatch(batch):
            for item in batch:
                self._cancel(item)

    # --- cancellation ---------------------------------------------------------------------

    def _cancel(self, item: Item) -> None:
        last = item.last_failure
        detail = f"; last error: {last.errormessage}" if last is not None else ""
        self.summary.cancelled = True
        self._writer.failed(
            item,
            499,
            ErrorCode.CANCELLED.value,
            f"the run was cancelled before this event was delivered{detail}",
            _as_sent(item) if item.attempts else None,
            last.body if last is not None else None,
        )

    def _begin_cancel(self) -> None:
        self._stopping = True
        self.summary.cancelled = True
        while self._schedule:
            self._cancel(heapq.heappop(self._schedule)[2])
        self._cancel_batcher()
        while True:
            try:
                batch = self._channels.batches.get_nowait()
            except queue.Empty:
                break
            if batch is not None:
                self._channels.settle(batch)
                for item in batch:
                    self._cancel(item)

    def _cancel_batcher(self) -> None:
        batch = self._batcher.flush()
        for item in batch or ():
            self._cancel(item)

    def _cancel_everything_left(self, reader_thread: threading.Thread) -> None:
        # The reader stops at its next line; give it a moment so nothing it holds is lost (it
        # may be blocked on a slow stdin, which is why this is bounded).
        reader_thread.join(timeout=1.0)
        while True:
            self._cancel_batcher()
            for batch in self._channels.unsettled():
                for item in batch:
                    self._cancel(item)
            try:
                message = self._channels.results.get_nowait()
            except queue.Empty:
                return
            self._handle(message, True)


def _as_sent(item: Item, sent: Any = None) -> Any:
    """What an outcome's ``sent`` holds: the destination's own account when it gave a different
    one, else the item as posted, as the bytes already encoded (no second encoding)."""
    if sent is None or sent is item.payload:
        return orjson.Fragment(item.encoded)
    return sent
