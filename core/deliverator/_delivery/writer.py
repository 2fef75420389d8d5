"""The former name of the stream outcome sink, kept so that code written against the first
round's ``OutcomeWriter(results, dead_letters)`` still runs: it is now
:class:`deliverator._delivery.sinks.StreamSink` (recording moved to
:mod:`deliverator._delivery.recorder`)."""

from deliverator._delivery.sinks import StreamSink as OutcomeWriter

__all__ = ["OutcomeWriter"]
