"""Putting a run together from a configuration: the plugin, its settings, the error handler,
the HTTP client. Shared by ``deliver``, ``check`` and ``demo`` so they cannot drift apart."""

from __future__ import annotations

import logging

import attrs

from deliverator.clock import Clock
from deliverator.config import Config
from deliverator.destination import Destination, new_plugin_manager, register_checked
from deliverator.discovery import EXTENSIONS_GROUP, find_destination, installed
from deliverator.errorhandling import RequestPacer, error_handler_plugin
from deliverator.errors import PluginError
from deliverator.http import HttpClient, HttpSettings

log = logging.getLogger("deliverator")


@attrs.frozen(kw_only=True)
class Session:
    """A destination ready to deliver, and the warnings met while loading it."""

    destination: Destination
    warnings: tuple[str, ...] = ()


def open_session(config: Config) -> Session:
    """Load the configured destination, any extensions, and the user's error handler.

    Raises ``PluginError`` when the destination cannot be loaded and ``ConfigError`` when its
    settings are invalid. An extension that fails to load is a warning, not an error.
    """
    plugin = find_destination(config.destination.name)
    module = plugin.load()
    pm = new_plugin_manager()
    register_checked(pm, module, f"{plugin.distribution}:{plugin.name}")
    warnings: list[str] = []
    for extension in installed(EXTENSIONS_GROUP):
        try:
            register_checked(pm, extension.load(), f"{extension.distribution}:{extension.name}")
        except PluginError as exc:
            warnings.append(f"extension skipped: {exc}")
    handler = error_handler_plugin(config.error_handler)
    if handler is not None:
        register_checked(pm, handler, "deliverator.error_handler")
    return Session(destination=Destination(pm, config.destination.settings), warnings=tuple(warnings))


def http_client(config: Config) -> HttpClient:
    """The run's HTTP client, from ``[delivery]``."""
    delivery = config.delivery
    return HttpClient(
        HttpSettings(
            connect_timeout_s=delivery.connect_timeout_s,
            read_timeout_s=delivery.timeout_s,
            pool_size=delivery.sender_threads,
            ca_bundle=delivery.ca_bundle,
            max_response_bytes=delivery.max_response_bytes,
        )
    )


def request_pacer(config: Config, clock: Clock) -> RequestPacer:
    """The run's request pacer, from ``[delivery]``: its token bucket, and its slow-down on
    429 unless the concurrency adapts (then the limiter answers rate limiting)."""
    delivery = config.delivery
    return RequestPacer(
        clock, delivery.max_requests_per_second, delivery.max_requests_burst, slow_down=not delivery.adaptive
    )
