"""The former name of the stream outcome sink, kept so that code written against the first
round's ``OutcomeWriter(results, dead_letters)`` still runs: it is now
:class:`deliverator.delivery.sinks.StreamSink` (recording moved to
:mod:`deliverator.delivery.recorder`)."""

from deliverator.delivery.sinks import StreamSink as OutcomeWriter

__all__ = ["OutcomeWriter"]
