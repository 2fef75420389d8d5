"""The configuration file: TOML with ``[destination]``, ``[delivery]`` and ``[error_handler]``.

``${NAME}`` in any string reads the environment (``$${`` writes a literal ``${``); a missing
variable is a config error naming it and the key that asked for it. Unknown keys are errors
that suggest the closest expected key. Every problem of the file is collected in one pass
(:mod:`deliverator._convert`) and raised as one :class:`ConfigError`, which the CLI prints
before exiting 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from deliverator._convert import converter, structure_problems, unknown_keys_message
from deliverator._errorhandling import ErrorHandlerConfig, parse_error_handler
from deliverator._errors import ConfigError, Problem
from deliverator._http import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_DEADLINE_S
from deliverator._queue.settings import QueueConfig

_VARIABLE: Final = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECTIONS: Final = ("destination", "delivery", "error_handler", "queue")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value:g}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value:g}")


def _at_most(limit: int) -> Callable[[object, attrs.Attribute[Any], int | None], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and value > limit:
            raise ValueError(f"{attribute.name} must be at most {limit}, got {value}")

    return check


def _named(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError("must name a destination (see: deliverator destinations)")


def _masked_settings(settings: dict[str, Any]) -> str:
    # Which settings are secrets is the plugin's to say, later: until then, show none.
    return "{" + ", ".join(f"{key!r}: '********'" for key in settings) + "}"


Concurrency = int | Literal["adaptive"]

DEFAULT_MAX_CONCURRENCY: Final = 32
"""The adaptive limit's ceiling when ``max_concurrency`` is not given (and the number of sender
threads an adaptive run starts). Chosen from the benchmarks: see docs/performance.md."""


def _number_or(word: str) -> tuple[Callable[[object, attrs.Attribute[Any], Any], None], Callable[[Any, type], Any]]:
    """The validator and the structure hook of a setting that is a whole number from 1 to 64 or
    the one word ``word`` (``concurrency = "adaptive"``, ``processes = "auto"``)."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value == word:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f'{attribute.name} must be a whole number or "{word}", got {value!r}')
        _positive(instance, attribute, value)
        _at_most(64)(instance, attribute, value)

    def structure(value: Any, _: type) -> Any:
        if value == word or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise TypeError(f'expected a whole number or "{word}", got {value!r}')

    return validate, structure


_concurrency, _structure_concurrency = _number_or("adaptive")
converter.register_structure_hook(Concurrency, _structure_concurrency)

Processes = int | Literal["auto"]

_processes, _structure_processes = _number_or("auto")
converter.register_structure_hook(Processes, _structure_processes)


@attrs.frozen(kw_only=True)
class DestinationSection:
    """``[destination]``: which plugin, and its settings table (validated by the plugin's
    class). Its repr names the settings without their values, which may be secrets."""

    name: str = attrs.field(validator=_named)
    settings: dict[str, Any] = attrs.field(factory=dict, repr=_masked_settings)


@attrs.frozen(kw_only=True)
class DeliveryConfig:
    """``[delivery]``: how requests are made."""

    batch_size: int | None = attrs.field(default=None, validator=_positive)
    concurrency: Concurrency = attrs.field(default=4, validator=_concurrency)
    """Requests in flight at once: a number (1 to 64), or ``"adaptive"`` (see
    ``deliverator._delivery.concurrency``)."""
    max_concurrency: int | None = attrs.field(default=None, validator=[_positive, _at_most(64)])
    """With ``concurrency = "adaptive"``: the ceiling of the limit (default 32)."""
    timeout_s: float = attrs.field(default=10.0, validator=_positive)
    request_deadline_s: float = attrs.field(default=DEFAULT_REQUEST_DEADLINE_S, validator=_positive)
    connect_timeout_s: float = attrs.field(default=5.0, validator=_positive)
    linger_s: float = attrs.field(default=1.0, validator=_non_negative)
    max_requests_per_second: float | None = attrs.field(default=None, validator=_positive)
    max_requests_burst: float | None = attrs.field(default=None, validator=_positive)
    """Requests the ``max_requests_per_second`` bucket lets through at once after a quiet
    spell (default: one second's worth)."""
    ca_bundle: str | None = None
    max_response_bytes: int = attrs.field(default=DEFAULT_MAX_RESPONSE_BYTES, validator=_positive)
    max_line_bytes: int = attrs.field(default=4 * 1024 * 1024, validator=_positive)
    cancel_grace_s: float = attrs.field(default=15.0, validator=_non_negative)
    processes: Processes = attrs.field(default="auto", validator=_processes)
    """Delivery processes for a file run (file in, results file out): ``"auto"`` (the
    machine's cores, for an input big enough to repay starting them) or a number; 1 keeps the
    whole run in one process (see ``deliverator._delivery.shards``)."""

    @property
    def adaptive(self) -> bool:
        """Whether the number of requests in flight adapts to the destination."""
        return self.concurrency == "adaptive"

    @property
    def sender_threads(self) -> int:
        """Sender threads (and HTTP connections) the run needs: the fixed concurrency, or the
        adaptive limit's ceiling."""
        if isinstance(self.concurrency, int):
            return self.concurrency
        return self.max_concurrency or DEFAULT_MAX_CONCURRENCY


@attrs.frozen(kw_only=True)
class Config:
    """A whole, validated configuration file."""

    destination: DestinationSection
    delivery: DeliveryConfig = attrs.field(factory=DeliveryConfig)
    error_handler: ErrorHandlerConfig = attrs.field(factory=ErrorHandlerConfig)
    queue: QueueConfig = attrs.field(factory=QueueConfig)


SettingsCheck = Callable[[DestinationSection], list[Problem]]
"""Validates ``[destination.settings]`` against the named plugin's settings class (the plugin
must be loaded for that, so the caller supplies it; see ``deliverator._session``)."""


def load_config(
    path: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    *,
    settings_check: SettingsCheck | None = None,
) -> Config:
    """Read, interpolate and validate a config file; every problem in it is reported at once."""
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
    return parse_config(table, os.environ if environ is None else environ, settings_check=settings_check)


def parse_config(
    table: Mapping[str, Any], environ: Mapping[str, str], *, settings_check: SettingsCheck | None = None
) -> Config:
    """Validate an already-parsed TOML table, or raise :class:`ConfigError` holding every
    problem of every section (and of the destination's settings, given ``settings_check``)."""
    problems: list[Problem] = []
    table = interpolate(table, environ, "", problems)
    unknown = sorted(set(table) - set(_SECTIONS))
    if unknown:
        problems.insert(0, Problem(None, unknown_keys_message(unknown, _SECTIONS, "section")))
    destination: DestinationSection | None = None
    if "destination" not in table:
        problems.append(Problem(None, "missing [destination] section (it names the destination plugin)"))
    else:
        destination, found = structure_problems(table["destination"], DestinationSection, "destination")
        problems += found
    delivery, found = structure_problems(table.get("delivery", {}), DeliveryConfig, "delivery")
    problems += found
    queue, found = structure_problems(table.get("queue", {}), QueueConfig, "queue")
    problems += found
    error_handler: ErrorHandlerConfig | None = None
    try:
        error_handler = parse_error_handler(table.get("error_handler"), "error_handler")
    except ConfigError as exc:
        problems += exc.problems
    if destination is not None and settings_check is not None:
        problems += settings_check(destination)
    if problems:
        raise ConfigError.of(problems)
    assert destination is not None and delivery is not None and error_handler is not None and queue is not None
    return Config(destination=destination, delivery=delivery, error_handler=error_handler, queue=queue)


def interpolate(value: Any, environ: Mapping[str, str], where: str, problems: list[Problem] | None = None) -> Any:
    """Replace ``${NAME}`` in every string below ``value`` with the environment variable.

    Problems (a missing variable, a bad reference) are appended to ``problems`` and the text is
    left as written; without a list the first one raises :class:`ConfigError`.
    """
    found: list[Problem] = [] if problems is None else problems
    result = _interpolate(value, environ, where, found)
    if problems is None and found:
        raise ConfigError.of(found)
    return result


def _interpolate(value: Any, environ: Mapping[str, str], where: str, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return _interpolate_string(value, environ, where, problems)
    if isinstance(value, dict):
        return {key: _interpolate(item, environ, _key_path(where, key), problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, environ, f"{where}[{i}]", problems) for i, item in enumerate(value)]
    return value


def _key_path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _interpolate_string(text: str, environ: Mapping[str, str], where: str, problems: list[Problem]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _NAME.fullmatch(name):
            problems.append(Problem(where, f"${{{name}}} is not a valid environment variable reference"))
        elif name not in environ:
            problems.append(Problem(where, f"environment variable {name} is not set"))
        else:
            return environ[name]
        return match.group(0)

    return _VARIABLE.sub(replace, text)
