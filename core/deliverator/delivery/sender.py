"""Sender threads: one request per batch, classified, parsed, handed to the coordinator.

A sender never retries and never records: it reports what happened, and the coordinator
decides. Plugin bugs in any hook become a classified failure, never a dead thread.
"""

from __future__ import annotations

from deliverator.classification import Action, Classification
from deliverator.clock import Clock
from deliverator.delivery.channels import Channels, Sent, Unsent
from deliverator.destination import Destination
from deliverator.encoded import PayloadBatch
from deliverator.errorcodes import ErrorCode
from deliverator.errorhandling import RequestPacer
from deliverator.http import HttpClient, HttpResponse
from deliverator.multistatus import MultiStatusResponse


def _plugin_failure(hook: str, exc: BaseException) -> Classification:
    return Classification(
        action=Action.FAIL,
        status=500,
        errortype=ErrorCode.UNKNOWN_ERROR,
        errormessage=f"{hook} raised {type(exc).__name__}: {exc}",
    )


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
        while True:
            batch = batches.get()
            if batch is None:
                return
            if stop.is_set():
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
            classification = self._classify(response, error)
            statuses: MultiStatusResponse | None = None
            if classification.action is Action.SUCCESS and response is not None:
                try:
                    statuses = self._destination.parse_response(response, payloads)
                except Exception as exc:
                    classification = _plugin_failure("parse_response", exc)
            if classification.action is Action.RATE_LIMITED:
                self._pacer.on_rate_limited()
            elif classification.action is Action.SUCCESS:
                self._pacer.on_success()
            results.put(Sent(batch, response, error, classification, statuses))

    def _classify(self, response: HttpResponse | None, error: BaseException | None) -> Classification:
        try:
            return self._destination.classify(response, error)
        except Exception as exc:
            return _plugin_failure("classify_error", exc)
