"""The delivery loop: source -> check -> build -> batch -> send -> parse -> retry -> record."""

from deliverator._delivery.runner import DeliveryRun, RunOptions
from deliverator._delivery.sources import OutcomeSink, OutputError, Source, SourceRecord
from deliverator._delivery.summary import Summary

__all__ = ["DeliveryRun", "OutcomeSink", "OutputError", "RunOptions", "Source", "SourceRecord", "Summary"]
