"""The typed facade the delivery loop talks to: one destination, its settings and the
PluginManager that combines the core defaults, the destination and the user's error handler.

pluggy cannot type ``pm.hook.<name>(...)``; every hook call goes through a method here, which
is also the one place that passes keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import pluggy

from deliverator import defaults, hookspecs
from deliverator.classification import Action, Classification
from deliverator.convert import structure_config
from deliverator.errorcodes import ErrorCode
from deliverator.errorhandling import ConfiguredErrorHandler
from deliverator.errors import PluginError
from deliverator.http import HttpClient, HttpResponse
from deliverator.multistatus import MultiStatusResponse
from deliverator.spec import CheckResult, DestinationSpec

REQUIRED_HOOKS = ("destination_spec", "build_payload", "send_batch")
"""Hooks a destination must implement; checked when it loads, before any input is read."""


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, counting registrations so that the facade knows when a binding it
    computed (the lone-implementation fast path) is out of date."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.generation = 0

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """Register ``plugin`` (see pluggy) and invalidate the facade's bindings."""
        registered = super().register(plugin, name)
        self.generation += 1
        return registered

    def unregister(self, plugin: Any | None = None, name: str | None = None) -> Any | None:
        """Unregister ``plugin`` (see pluggy) and invalidate the facade's bindings."""
        removed = super().unregister(plugin, name)
        self.generation += 1
        return removed


def new_plugin_manager() -> PluginManager:
    """A PluginManager with our hookspecs and the core defaults (``trylast``) registered."""
    pm = PluginManager("deliverator")
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


def check_required_hooks(pm: pluggy.PluginManager) -> None:
    """Fail, naming what is missing, when no plugin implements a required hook."""
    missing = [
        name
        for name in REQUIRED_HOOKS
        if not any(not (i.wrapper or i.hookwrapper) for i in getattr(pm.hook, name).get_hookimpls())
    ]
    if missing:
        plugins = ", ".join(name for name, plugin in pm.list_name_plugin() if plugin is not defaults) or "none"
        raise PluginError(
            f"the destination does not implement the required hook{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (plugins loaded: {plugins}); every destination implements "
            f"{', '.join(REQUIRED_HOOKS)}"
        )


def plugin_failure(hook: str, exc: BaseException) -> Classification:
    """What a plugin exception in a hook judging an answer means: that request failed, and the
    message names the hook."""
    return Classification(
        action=Action.FAIL,
        status=500,
        errortype=ErrorCode.UNKNOWN_ERROR,
        errormessage=f"{hook} raised {type(exc).__name__}: {exc}",
    )


@attrs.frozen(kw_only=True)
class Judgement:
    """What one request's outcome means, as :meth:`Destination.judge` decided it.

    ``statuses`` holds one entry per payload when the answer was read per item (the destination's
    ``parse_response``, or a whole-request SUCCESS giving every item the request's status); then
    ``classification.action`` is SUCCESS. Otherwise ``statuses`` is None and the classification
    applies to the whole batch.
    """

    classification: Classification
    statuses: MultiStatusResponse | None = None


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
        check_required_hooks(pm)
        spec = pm.hook.destination_spec()
        if not isinstance(spec, DestinationSpec):
            raise PluginError("no plugin provides destination_spec() returning a DestinationSpec")
        self.spec: DestinationSpec = spec
        if settings is None:
            settings = structure_config(dict(settings_table or {}), spec.settings_class, "destination.settings")
        self.settings = settings
        self._bind_hooks()

    def _bind_hooks(self) -> None:
        pm = self._pm
        hook = pm.hook
        # A manager that counts registrations (ours) says when a binding below is out of date.
        self._counted = pm if isinstance(pm, PluginManager) else None
        self._generation = pm.generation if isinstance(pm, PluginManager) else 0
        self._build = hook.build_payload
        self._send = hook.send_batch
        self._parse = hook.parse_response
        # The fast path is safe only while the implementations are the ones it was computed
        # from, which only a counting manager can tell: without one, every call goes to pluggy.
        self._build_direct = (
            _single_implementation(hook.build_payload, {"settings": self.settings}, "event")
            if self._counted is not None
            else None
        )
        # The user's response filters are asked first, before the destination reads the answer.
        # When none matches, they answer None again inside classify_error: no special case there.
        self._filters = tuple(
            plugin for _, plugin in pm.list_name_plugin() if isinstance(plugin, ConfiguredErrorHandler)
        )
        self._classify = hook.classify_error

    def _refresh(self) -> None:
        counted = self._counted
        if counted is not None and counted.generation != self._generation:
            self._bind_hooks()

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
        """One event to one payload; raises ``PayloadValidationError`` for an unsendable event
        and ``IgnoreEvent`` for one the destination does not take."""
        counted = self._counted  # _refresh() inlined: this runs once per event
        if counted is not None and counted.generation != self._generation:
            self._bind_hooks()
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

    def parse_response(
        self, response: HttpResponse, payloads: Sequence[Mapping[str, Any]]
    ) -> MultiStatusResponse | None:
        """Per-item results of an answer, or None when it is about the whole request."""
        self._refresh()
        result = self._parse(response=response, payloads=payloads, settings=self.settings)
        if result is not None and not isinstance(result, MultiStatusResponse):
            raise PluginError(
                f"parse_response returned {type(result).__name__}: it must return a MultiStatusResponse or None"
            )
        return result

    def classify(self, response: HttpResponse | None = None, error: BaseException | None = None) -> Classification:
        """What to do with a whole-request outcome: the user's response filters first, then the
        destination, then the core defaults (which always answer)."""
        self._refresh()
        return _checked_classification(self._classify(response=response, error=error, settings=self.settings))

    def judge(
        self, payloads: Sequence[Mapping[str, Any]], response: HttpResponse | None, error: BaseException | None
    ) -> Judgement:
        """What one request's outcome means, in the contract's order: the user's response filters
        (first match wins), then the destination's ``parse_response`` (per-item answers), then
        ``classify_error`` (the destination, then the core defaults). Never raises: a plugin
        exception becomes a FAIL naming the hook."""
        self._refresh()
        if response is None:
            return Judgement(classification=self._judge_whole(None, error))
        matched: Classification | None = None
        for user_filters in self._filters:
            try:
                matched = user_filters.classify_error(response=response, error=None, settings=self.settings)
            except Exception as exc:
                return Judgement(classification=plugin_failure("classify_error", exc))
            if matched is not None:
                break
        # A matching filter decides, except that a SUCCESS still lets the destination say what
        # happened to each item.
        if matched is not None and matched.action is not Action.SUCCESS:
            return Judgement(classification=matched)
        try:
            statuses = self.parse_response(response, payloads)
        except Exception as exc:
            return Judgement(classification=plugin_failure("parse_response", exc))
        if statuses is not None:
            return Judgement(classification=Classification(action=Action.SUCCESS), statuses=statuses)
        classification = matched if matched is not None else self._judge_whole(response, None)
        if classification.action is Action.SUCCESS:
            return Judgement(classification=classification, statuses=defaults.all_delivered(response, payloads))
        return Judgement(classification=classification)

    def _judge_whole(self, response: HttpResponse | None, error: BaseException | None) -> Classification:
        try:
            return _checked_classification(self._classify(response=response, error=error, settings=self.settings))
        except Exception as exc:
            return plugin_failure("classify_error", exc)

    def check_credentials(self, http: HttpClient) -> CheckResult | None:
        """Ask the destination to verify its credentials; None if it cannot."""
        result = self._pm.hook.check_credentials(settings=self.settings, http=http)
        return result if isinstance(result, CheckResult) else None


def _checked_classification(result: object) -> Classification:
    if not isinstance(result, Classification):
        raise PluginError(
            f"classify_error returned {type(result).__name__}: it must return a Classification or None"
        )
    return result


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
