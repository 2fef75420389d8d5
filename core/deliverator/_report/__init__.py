"""``deliverator report``: what happened to a run's events, read from its outcome records.

Segment's Event Delivery view for a results file: counts by outcome, status and error type,
the most frequent error messages each with a sample of what was sent and what came back, and
how many attempts events took. :mod:`~deliverator._report.tally` reads the file as a stream in
bounded memory; :mod:`~deliverator._report.page` renders one self-contained HTML page.
"""

from __future__ import annotations

from deliverator._report.tally import MessageGroup, Tally, tally_file

__all__ = ["MessageGroup", "Tally", "tally_file"]
