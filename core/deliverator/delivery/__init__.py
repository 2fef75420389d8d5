"""The delivery loop: read -> validate -> build -> batch -> send -> parse -> retry -> record."""

from deliverator.delivery.runner import DeliveryRun, RunOptions
from deliverator.delivery.summary import Summary

__all__ = ["DeliveryRun", "RunOptions", "Summary"]
