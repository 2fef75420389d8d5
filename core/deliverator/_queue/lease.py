"""The entries one worker holds: read from the stream, not yet acknowledged.

Redis counts an entry's idle time from its last delivery, and another worker claims it once
that reaches ``claim_idle_s``. A live worker may hold an entry longer (a retry waiting out its
backoff, a slow destination), so :class:`Lease` renews what it holds every third of
``claim_idle_s`` (``XCLAIM ... JUSTID`` to itself, which resets the idle time without counting
a delivery). The renewal and the release on stop run as one script that first checks the entry
is still this consumer's: a worker that lost an entry (it stalled longer than ``claim_idle_s``)
never takes it back from the worker now delivering it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from deliverator._queue.url import QueueUrl

if TYPE_CHECKING:
    import redis

_RELEASED_IDLE_MS: Final = 365 * 24 * 3600 * 1000
"""What a released entry's idle time is set to: claimable by the next worker at once."""

TOUCH_SCRIPT: Final = """
-- KEYS[1] the events stream; ARGV: group, consumer, idle ms, entry ids...
-- Resets (or sets) the idle time of the entries still pending on this consumer; returns the
-- ids that are not (another consumer claimed them, or they were acknowledged).
local group, me, idle = ARGV[1], ARGV[2], ARGV[3]
local lost = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local entry = redis.call('XPENDING', KEYS[1], group, id, id, 1)[1]
  if entry and entry[2] == me then
    redis.call('XCLAIM', KEYS[1], group, me, 0, id, 'IDLE', idle, 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost
"""


class Lease:
    """Entry ids this consumer holds (thread-safe), and the renewing thread."""

    def __init__(self, client: redis.Redis, url: QueueUrl, consumer: str, claim_idle_s: float) -> None:
        self._client = client
        self._url = url
        self._consumer = consumer
        self._interval_s = claim_idle_s / 3
        self._held: set[bytes] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._touch: Any = client.register_script(TOUCH_SCRIPT)
        self.lost = 0
        """Entries found to be another consumer's when renewed (this worker stalled)."""

    @property
    def consumer(self) -> str:
        """This worker's consumer name in the group."""
        return self._consumer

    def take(self, entry_id: bytes) -> bool:
        """Hold ``entry_id``; False when it is held already (claimed back while in hand)."""
        with self._lock:
            if entry_id in self._held:
                return False
            self._held.add(entry_id)
            return True

    def drop(self, entry_ids: Iterable[bytes]) -> None:
        """No longer held (acknowledged, or found to be another consumer's)."""
        with self._lock:
            self._held.difference_update(entry_ids)

    def held(self) -> list[bytes]:
        """What is held now."""
        with self._lock:
            return sorted(self._held)

    def start(self) -> None:
        """Renew in a background thread until :meth:`close`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._renew_forever, name="deliverator-queue-lease", daemon=True)
            self._thread.start()

    def renew(self) -> None:
        """Reset the idle time of everything held (one script per call)."""
        self._apply(0)

    def release(self) -> None:
        """Stopping: what is held stays pending (never acknowledged), marked idle so the next
        worker claims it at once instead of after ``claim_idle_s``."""
        self._apply(_RELEASED_IDLE_MS)
        with self._lock:
            self._held.clear()

    def close(self) -> None:
        """Stop renewing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _apply(self, idle_ms: int) -> None:
        ids = self.held()
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            lost = self._touch(keys=[self._url.stream], args=[self._url.group, self._consumer, idle_ms, *chunk])
            if lost:
                self.lost += len(lost)
                self.drop(lost)

    def _renew_forever(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.renew()
            except Exception:  # a failed renewal is retried next interval; a dead Redis fails the reads
                continue
