"""deliverator-mixpanel: the Mixpanel destination (``/import`` events, optional ``/engage`` profiles)."""

__version__ = "0.1.0"
