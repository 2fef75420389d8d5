"""The typed facade the delivery loop talks to: one destination, its settings and the
PluginManager that combines the core defaults, the destination and the user's error handler.

pluggy cannot type ``pm.hook.<name>(...)``; every hook call goes through a method here, which
is also the one place that passes keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pluggy

from deliverator import defaults, hookspecs
from deliverator.classification import Classification
from deliverator.convert import structure_config
from deliverator.errorhandling.backoff import BackoffStrategy
from deliverator.errorhandling.parsing import parse_strategy
from deliverator.errors import ConfigError, PluginError
from deliverator.http import HttpClient, HttpResponse
from deliverator.multistatus import MultiStatusResponse
from deliverator.spec import CheckResult, DestinationSpec


def new_plugin_manager() -> pluggy.PluginManager:
    """A PluginManager with our hookspecs and the core defaults (``trylast``) registered."""
    pm = pluggy.PluginManager("deliverator")
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="deliverator.defaults")
    return pm


def register_checked(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register ``plugin`` and fail, naming it, if it implements a hook that does not exist."""
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if pm.has_plugin(name):
            pm.unregister(name=name)
        raise PluginError(f"plugin {name!r}: {exc}") from None


class Destination:
    """One configured destination, ready for a run."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        settings_table: Mapping[str, Any] | None = None,
        *,
        settings: Any = None,
    ) -> None:
        self._pm = pm
        spec = pm.hook.destination_spec()
        if not isinstance(spec, DestinationSpec):
            raise PluginError("no plugin provides destination_spec() returning a DestinationSpec")
        self.spec: DestinationSpec = spec
        self.default_backoff = _default_backoff(spec)
        """The destination's own backoff strategies (``DestinationSpec.default_backoff``), built."""
        if settings is None:
            settings = structure_config(dict(settings_table or {}), spec.settings_class, "destination.settings")
        self.settings = settings
        self._bind_hooks()

    def _bind_hooks(self) -> None:
        hook = self._pm.hook
        self._build = hook.build_payload
        self._send = hook.send_batch
        self._parse = hook.parse_response
        self._classify = hook.classify_error
        self._build_direct = _single_implementation(hook.build_payload, {"settings": self.settings}, "event")

    @classmethod
    def from_plugins(
        cls,
        plugins: Iterable[tuple[str, object]],
        settings_table: Mapping[str, Any] | None = None,
        *,
        settings: Any = None,
    ) -> Destination:
        """Build from (name, plugin) pairs registered in order after the core defaults."""
        pm = new_plugin_manager()
        for name, plugin in plugins:
            register_checked(pm, plugin, name)
        return cls(pm, settings_table, settings=settings)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying manager (for extensions and tests; the loop never needs it)."""
        return self._pm

    def add_plugin(self, plugin: object, name: str) -> None:
        """Register another plugin (the user's error handler, an extension)."""
        register_checked(self._pm, plugin, name)
        self._bind_hooks()

    def build_payload(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One event to one payload; raises ``PayloadValidationError`` for an unsendable event."""
        direct = self._build_direct
        payload = direct(event) if direct is not None else self._build(event=event, settings=self.settings)
        if not isinstance(payload, dict):
            raise PluginError(
                f"build_payload returned {type(payload).__name__}, not a dict"
                if payload is not None
                else "no plugin implements build_payload"
            )
        return payload

    def send_batch(self, payloads: Sequence[Mapping[str, Any]], http: HttpClient) -> HttpResponse:
        """One request for ``payloads``."""
        response = self._send(payloads=payloads, settings=self.settings, http=http)
        if not isinstance(response, HttpResponse):
            raise PluginError("send_batch must return an HttpResponse")
        return response

    def parse_response(self, response: HttpResponse, payloads: Sequence[Mapping[str, Any]]) -> MultiStatusResponse:
        """Per-item results of a request classified SUCCESS."""
        result = self._parse(response=response, payloads=payloads, settings=self.settings)
        if not isinstance(result, MultiStatusResponse):
            raise PluginError("parse_response must return a MultiStatusResponse")
        return result

    def classify(self, response: HttpResponse | None = None, error: BaseException | None = None) -> Classification:
        """What to do with a whole-request outcome (the core defaults always answer)."""
        result = self._classify(response=response, error=error, settings=self.settings)
        if not isinstance(result, Classification):
            raise PluginError("classify_error must return a Classification or None")
        return result

    def check_credentials(self, http: HttpClient) -> CheckResult | None:
        """Ask the destination to verify its credentials; None if it cannot."""
        result = self._pm.hook.check_credentials(settings=self.settings, http=http)
        return result if isinstance(result, CheckResult) else None


def _default_backoff(spec: DestinationSpec) -> tuple[BackoffStrategy, ...]:
    try:
        return tuple(
            parse_strategy(entry, f"{spec.name}: default_backoff[{index}]")
            for index, entry in enumerate(spec.default_backoff)
        )
    except ConfigError as exc:
        raise PluginError(f"destination {spec.name!r} declares an invalid default_backoff: {exc}") from None


def _single_implementation(
    caller: pluggy.HookCaller, fixed: Mapping[str, Any], varying: str
) -> Callable[[Any], Any] | None:
    """A direct call to the one implementation of a first-result hook, when there is exactly
    one and nothing wraps it: the same result as going through pluggy, without its per-call
    cost (it matters for ``build_payload``, called once per event on the hot path)."""
    implementations = caller.get_hookimpls()
    if len(implementations) != 1:
        return None
    implementation = implementations[0]
    if implementation.hookwrapper or implementation.wrapper:
        return None
    function = implementation.function
    names = implementation.argnames
    if any(name != varying and name not in fixed for name in names):
        return None
    if names == (varying,):
        return function
    if names == (varying, *fixed) and len(fixed) == 1:
        (value,) = fixed.values()
        return lambda argument: function(argument, value)
    return lambda argument: function(*(argument if name == varying else fixed[name] for name in names))
