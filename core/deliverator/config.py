"""The configuration file: TOML with ``[destination]``, ``[delivery]`` and ``[error_handler]``.

``${NAME}`` in any string reads the environment (``$${`` writes a literal ``${``); a missing
variable is a config error naming it and the key that asked for it. Unknown keys are errors.
Every problem raises :class:`ConfigError`, which the CLI prints before exiting 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from deliverator.convert import structure_config
from deliverator.errorhandling import ErrorHandlerConfig, parse_error_handler
from deliverator.errors import ConfigError
from deliverator.http import DEFAULT_MAX_RESPONSE_BYTES
from deliverator.queue.settings import QueueConfig

_VARIABLE: Final = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECTIONS: Final = ("destination", "delivery", "error_handler", "queue")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


@attrs.frozen(kw_only=True)
class DestinationSection:
    """``[destination]``: which plugin, and its settings table (validated by the plugin's class)."""

    name: str
    settings: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class DeliveryConfig:
    """``[delivery]``: how requests are made."""

    batch_size: int | None = attrs.field(default=None, validator=_positive)
    concurrency: int = attrs.field(default=4, validator=[_positive, attrs.validators.le(64)])
    timeout_s: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout_s: float = attrs.field(default=5.0, validator=_positive)
    linger_s: float = attrs.field(default=1.0, validator=_non_negative)
    max_requests_per_second: float | None = attrs.field(default=None, validator=_positive)
    ca_bundle: str | None = None
    max_response_bytes: int = attrs.field(default=DEFAULT_MAX_RESPONSE_BYTES, validator=_positive)
    max_line_bytes: int = attrs.field(default=4 * 1024 * 1024, validator=_positive)
    cancel_grace_s: float = attrs.field(default=15.0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class Config:
    """A whole, validated configuration file."""

    destination: DestinationSection
    delivery: DeliveryConfig = attrs.field(factory=DeliveryConfig)
    error_handler: ErrorHandlerConfig = attrs.field(factory=ErrorHandlerConfig)
    queue: QueueConfig = attrs.field(factory=QueueConfig)


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a config file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {exc}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    return parse_config(table, os.environ if environ is None else environ)


def parse_config(table: Mapping[str, Any], environ: Mapping[str, str]) -> Config:
    """Validate an already-parsed TOML table."""
    table = interpolate(table, environ, "")
    unknown = sorted(set(table) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section {unknown[0]!r} (expected: {', '.join(_SECTIONS)})")
    if "destination" not in table:
        raise ConfigError("missing [destination] section (it names the destination plugin)")
    destination = structure_config(table["destination"], DestinationSection, "destination")
    if not destination.name.strip():
        raise ConfigError("must name a destination", "destination.name")
    delivery = structure_config(table.get("delivery", {}), DeliveryConfig, "delivery")
    error_handler = parse_error_handler(table.get("error_handler"), "error_handler")
    queue = structure_config(table.get("queue", {}), QueueConfig, "queue")
    return Config(destination=destination, delivery=delivery, error_handler=error_handler, queue=queue)


def interpolate(value: Any, environ: Mapping[str, str], where: str) -> Any:
    """Replace ``${NAME}`` in every string below ``value`` with the environment variable."""
    if isinstance(value, str):
        return _interpolate_string(value, environ, where)
    if isinstance(value, dict):
        return {key: interpolate(item, environ, f"{where}.{key}" if where else key) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def _interpolate_string(text: str, environ: Mapping[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _NAME.fullmatch(name):
            raise ConfigError(f"${{{name}}} is not a valid environment variable reference", where)
        if name not in environ:
            raise ConfigError(f"environment variable {name} is not set", where)
        return environ[name]

    return _VARIABLE.sub(replace, text)
