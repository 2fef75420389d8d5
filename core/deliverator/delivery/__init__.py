"""The delivery loop: source -> check -> build -> batch -> send -> parse -> retry -> record."""

from deliverator.delivery.runner import DeliveryRun, RunOptions
from deliverator.delivery.sources import OutcomeSink, OutputError, Source, SourceRecord
from deliverator.delivery.summary import Summary

__all__ = ["DeliveryRun", "OutcomeSink", "OutputError", "RunOptions", "Source", "SourceRecord", "Summary"]
