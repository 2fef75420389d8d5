"""The Amplitude destination for deliverator (HTTP V2 API)."""

__version__ = "0.1.0"
