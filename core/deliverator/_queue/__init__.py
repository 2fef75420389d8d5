"""Queue mode: deliverator workers sharing one Redis stream through a consumer group.

``docs/queue.md`` is the guide to queue mode and its guarantees. Nothing here
imports the ``redis`` client at import time (it is the optional extra ``deliverator[redis]``,
loaded by :mod:`deliverator._queue.connection` when a queue command runs).

- :mod:`~deliverator._queue.url`: the ``--queue`` URL and the stream names it implies.
- :mod:`~deliverator._queue.settings`: the ``[queue]`` table of the config file.
- :mod:`~deliverator._queue.connection`: the client, the consumer group, the entry fields.
- :mod:`~deliverator._queue.lease`: which entries this worker holds, kept fresh and released.
- :mod:`~deliverator._queue.source` / :mod:`~deliverator._queue.sink`: the loop's ``Source`` and
  ``OutcomeSink`` on the stream.
- :mod:`~deliverator._queue.producer` / :mod:`~deliverator._queue.records`: ``enqueue`` and
  ``outcomes``.
"""
