"""An example deliverator destination for a made-up service with a per-item batch API."""
