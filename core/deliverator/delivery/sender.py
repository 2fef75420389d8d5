"""Sender threads: one request per batch, judged, handed to the coordinator.

A sender never retries and never records: it reports what happened, and the coordinator
decides. Plugin bugs in any hook become a classified failure, never a dead thread.
"""

from __future__ import annotations

import threading

from deliverator.classification import Action
from deliverator.clock import Clock
from deliverator.delivery.channels import Channels, Sent, Unsent
from deliverator.destination import Destination
from deliverator.encoded import PayloadBatch
from deliverator.errorhandling import RequestPacer
from deliverator.http import HttpClient, HttpResponse


class Sender:
    """The body of one sender thread."""

    def __init__(
        self,
        destination: Destination,
        http: HttpClient,
        channels: Channels,
        pacer: RequestPacer,
        clock: Clock,
    ) -> None:
        self._destination = destination
        self._http = http
        self._channels = channels
        self._pacer = pacer
        self._clock = clock

    def run(self) -> None:
        """Send batches until told to stop (a None batch)."""
        batches = self._channels.batches
        results = self._channels.results
        stop = self._channels.stop
        halt = self._channels.halt
        committed = threading.Event() if self._channels.gated else None
        while True:
            batch = batches.get()
            if batch is None:
                return
            if stop.is_set() or halt.is_set():
                results.put(Unsent(batch))
                continue
            self._pacer.acquire()
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
            judgement = self._destination.judge(payloads, response, error)
            classification, statuses = judgement.classification, judgement.statuses
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
