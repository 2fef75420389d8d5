"""Putting a run together from a configuration: the plugin, its settings, the error handler,
the HTTP client. Shared by ``deliver``, ``check`` and ``demo`` so they cannot drift apart."""

from __future__ import annotations

import logging
import os
import ssl

import attrs

from deliverator._clock import Clock
from deliverator._config import Config, DestinationSection, load_config
from deliverator._convert import structure_problems
from deliverator._destination import Destination, new_plugin_manager, register_checked
from deliverator._discovery import EXTENSIONS_GROUP, find_destination, installed
from deliverator._errorhandling import RequestPacer, error_handler_plugin
from deliverator._errors import ConfigError, PluginError, Problem
from deliverator._http import HttpClient, HttpSettings
from deliverator._spec import DestinationSpec

log = logging.getLogger("deliverator")


@attrs.frozen(kw_only=True)
class Session:
    """A destination ready to deliver, and the warnings met while loading it."""

    destination: Destination
    warnings: tuple[str, ...] = ()


def load_checked_config(path: str | os.PathLike[str]) -> Config:
    """Read a config file, its destination's settings checked too, so that one run reports
    every problem of the file (raises :class:`~deliverator._errors.ConfigError`)."""
    return load_config(path, settings_check=settings_problems)


def settings_problems(section: DestinationSection) -> list[Problem]:
    """What is wrong with ``[destination.settings]`` for the destination it names (loading
    that plugin), or with the name itself."""
    try:
        plugin = find_destination(section.name)
        pm = new_plugin_manager()
        register_checked(pm, plugin.load(), f"{plugin.distribution}:{plugin.name}")
    except PluginError as exc:
        return [Problem("destination.name", str(exc))]
    spec = pm.hook.destination_spec()
    if not isinstance(spec, DestinationSpec):
        return []  # reported, with its reason, when the destination is opened
    return structure_problems(section.settings, spec.settings_class, "destination.settings")[1]


def batch_size(config: Config, spec: DestinationSpec) -> int:
    """Items per request: the config's ``batch_size`` (else the destination's default),
    capped by the destination's limit (see :func:`config_warnings`)."""
    return min(config.delivery.batch_size or spec.batch_items, spec.max_batch_items)


def config_warnings(config: Config, spec: DestinationSpec) -> list[str]:
    """What a run with ``config`` will warn about; ``deliver`` and ``check`` print the same."""
    warnings = []
    wanted = config.delivery.batch_size
    if wanted is not None and wanted > spec.max_batch_items:
        warnings.append(
            f"delivery.batch_size {wanted} is over {spec.name}'s limit of {spec.max_batch_items} items "
            f"per request; using {spec.max_batch_items}"
        )
    delivery = config.delivery
    if delivery.max_requests_per_second is not None and delivery.processes not in ("auto", 1):
        warnings.append(
            f"delivery.processes {delivery.processes} is not used: a run paced by "
            "delivery.max_requests_per_second runs in one process"
        )
    handler = config.error_handler
    if handler.max_retries == 0 and handler.backoff_strategies:
        warnings.append("error_handler.backoff_strategies are never used: error_handler.max_retries is 0")
    if handler.max_retries and handler.max_time == 0:
        warnings.append("error_handler.max_time is 0: no event is ever retried, whatever max_retries says")
    return warnings


def open_session(config: Config) -> Session:
    """Load the configured destination, any extensions, and the user's error handler.

    Raises ``PluginError`` when the destination cannot be loaded and ``ConfigError`` when its
    settings are invalid. An extension that fails to load is a warning, not an error.
    """
    check_ca_bundle(config.delivery.ca_bundle)
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
    destination = Destination(pm, config.destination.settings)
    warnings += config_warnings(config, destination.spec)
    return Session(destination=destination, warnings=tuple(warnings))


def check_ca_bundle(path: str | None) -> None:
    """Raise ``ConfigError`` naming ``delivery.ca_bundle`` when it is not a usable CA file."""
    if path is None:
        return
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise ConfigError(f"CA bundle file not found: {path}", "delivery.ca_bundle") from None
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise ConfigError(
            f"{path} is not a usable CA bundle (PEM certificates): {reason}", "delivery.ca_bundle"
        ) from None


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
            request_deadline_s=delivery.request_deadline_s,
        )
    )


def request_pacer(config: Config, clock: Clock) -> RequestPacer:
    """The run's request pacer, from ``[delivery]``: its token bucket, and its slow-down on
    429 unless the concurrency adapts (then the limiter answers rate limiting)."""
    delivery = config.delivery
    return RequestPacer(
        clock, delivery.max_requests_per_second, delivery.max_requests_burst, slow_down=not delivery.adaptive
    )
