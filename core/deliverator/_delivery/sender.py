"""Sender threads: one request per batch, judged, handed to the coordinator.

A sender never retries and never records: it reports what happened, and the coordinator
decides. Plugin bugs in any hook become a classified failure, never a dead thread.
"""

from __future__ import annotations

import threading

from deliverator._classification import Action, Classification
from deliverator._clock import Clock
from deliverator._delivery.channels import Channels, Sent, Unsent
from deliverator._delivery.concurrency import ConcurrencyLimiter, FixedConcurrency
from deliverator._destination import Destination
from deliverator._encoded import PayloadBatch
from deliverator._errorhandling import RequestPacer
from deliverator._http import HttpClient, HttpResponse, TransportError

_BACKPRESSURE_STATUSES = frozenset({429, 503})


class Sender:
    """The body of one sender thread."""

    def __init__(
        self,
        destination: Destination,
        http: HttpClient,
        channels: Channels,
        pacer: RequestPacer,
        clock: Clock,
        limiter: ConcurrencyLimiter | None = None,
    ) -> None:
        self._destination = destination
        self._http = http
        self._channels = channels
        self._pacer = pacer
        self._clock = clock
        self._limiter = limiter or FixedConcurrency(1)

    def run(self) -> None:
        """Send batches until told to stop (a None batch)."""
        batches = self._channels.batches
        results = self._channels.results
        stop = self._channels.stop
        halt = self._channels.halt
        limiter = self._limiter
        committed = threading.Event() if self._channels.gated else None
        while True:
            # The permit first: senders beyond the limit wait in the limiter, not holding a batch.
            permit = limiter.acquire()
            batch = batches.get()
            if batch is None:
                if permit is not None:
                    limiter.release(permit, None, False)
                return
            if permit is None or stop.is_set() or halt.is_set():
                if permit is not None:
                    limiter.release(permit, None, False)
                results.put(Unsent(batch))
                continue
            self._pacer.acquire()
            permit = limiter.started(permit)
            now = self._clock.monotonic()
            for item in batch:
                item.attempts += 1
                if item.first_sent_at is None:
                    item.first_sent_at = now
            payloads = PayloadBatch([item.payload for item in batch], [item.encoded for item in batch])
            response: HttpResponse | None = None
            error: BaseException | None = None
            try:
                response = self._destination.send_batch(payloads, self._http)
            except Exception as exc:
                error = exc
            rtt = self._clock.monotonic() - now
            judgement = self._destination.judge(payloads, response, error)
            classification, statuses = judgement.classification, judgement.statuses
            pushed_back = _is_backpressure(classification, response, error)
            hold = limiter.hold_s(rtt) if pushed_back else 0.0
            if hold > 0:
                self._clock.sleep(hold)
            limiter.release(permit, rtt, pushed_back)
            if classification.stops_run:
                halt.set()  # at once: no sender starts another request (the coordinator stops the rest)
            if classification.action is Action.RATE_LIMITED:
                self._pacer.on_rate_limited()
            elif classification.action is Action.SUCCESS:
                self._pacer.on_success()
            if committed is None:
                results.put(Sent(batch, response, error, classification, statuses))
                continue
            committed.clear()
            results.put(Sent(batch, response, error, classification, statuses, committed))
            while not committed.wait(0.2):
                if self._channels.abandoned.is_set():
                    return


def _is_backpressure(
    classification: Classification, response: HttpResponse | None, error: BaseException | None
) -> bool:
    """Whether the destination asked us to slow down: rate limited, 429 or 503, or a timeout."""
    if classification.action is Action.RATE_LIMITED:
        return True
    if response is not None:
        return response.status in _BACKPRESSURE_STATUSES
    return isinstance(error, TransportError) and error.kind == "timeout"
