"""A destination that exists only for the benchmarks: it talks to ``benchmarks/sink.py`` in
``items`` mode, whose answers say per item whether it was accepted or refused retryably.

Customer.io never refuses an item retryably, so this is what lets ``make bench`` measure
whether the delivery loop re-sends exactly the items that failed retryably, once each.
"""

__version__ = "0.1.0"
