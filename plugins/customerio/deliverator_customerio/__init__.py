"""Customer.io destination for deliverator (Track API v2)."""

__version__ = "0.1.0"
