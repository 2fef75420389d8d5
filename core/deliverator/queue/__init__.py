"""Queue mode: deliverator workers sharing one Redis stream through a consumer group.

DESIGN.md "Queue mode" is the contract; ``docs/queue.md`` the user's guide. Nothing here
imports the ``redis`` client at import time (it is the optional extra ``deliverator[redis]``,
loaded by :mod:`deliverator.queue.connection` when a queue command runs).

- :mod:`~deliverator.queue.url`: the ``--queue`` URL and the stream names it implies.
- :mod:`~deliverator.queue.settings`: the ``[queue]`` table of the config file.
- :mod:`~deliverator.queue.connection`: the client, the consumer group, the entry fields.
- :mod:`~deliverator.queue.lease`: which entries this worker holds, kept fresh and released.
- :mod:`~deliverator.queue.source` / :mod:`~deliverator.queue.sink`: the loop's ``Source`` and
  ``OutcomeSink`` on the stream.
- :mod:`~deliverator.queue.producer` / :mod:`~deliverator.queue.records`: ``enqueue`` and
  ``outcomes``.
"""
