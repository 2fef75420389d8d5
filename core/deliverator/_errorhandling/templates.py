"""Predicates and error messages: Jinja2 templates compiled once, rendered safely.

Rendering never raises: a template that fails while evaluating (a type error, a refused
operation, a cap of :mod:`~deliverator._errorhandling.evallimits` reached) renders as None,
which a predicate reads as "no match"; the first failure of each template is logged, naming the
template's place in the config and the kind of failure, never the values it saw (only the
sandbox's own refusals, which name a cap, say more than the exception's type).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from deliverator._errors import ConfigError

if TYPE_CHECKING:
    # Jinja2 loads when the first template is compiled, so that reading a configuration
    # without templates (and importing this module's types) costs no start-up time.
    from jinja2 import Template, TemplateError

    from deliverator._errorhandling.sandbox import GuardedEnvironment

logger = logging.getLogger("deliverator._errorhandling")

MAX_OUTPUT: Final = 4_096
"""Rendered text beyond this many characters is cut off."""

_MAX_LOGGED_DETAIL: Final = 200

_TOO_DEEP: Final = "template does not compile: it is nested too deeply (parentheses, brackets or filters)"

_FALSE_TEXTS: Final = frozenset({"", "false", "none", "null", "0", "0.0", "undefined", "[]", "{}", "()"})


@cache
def environment() -> GuardedEnvironment:
    """The shared guarded environment (compiling is thread-safe; rendering needs no lock)."""
    from deliverator._errorhandling.sandbox import build_environment

    return build_environment()


class SafeTemplate:
    """One compiled template and the place in the config it came from (for messages)."""

    __slots__ = ("_lock", "_template", "error_count", "source", "where")

    def __init__(self, source: str, where: str, template: Template) -> None:
        self.source = source
        self.where = where
        self._template = template
        self._lock = threading.Lock()
        self.error_count = 0
        """How many renders failed (the first one is logged)."""

    def __repr__(self) -> str:
        return f"SafeTemplate({self.source!r}, where={self.where!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SafeTemplate):
            return NotImplemented
        return (self.source, self.where) == (other.source, other.where)

    def __hash__(self) -> int:
        return hash((self.source, self.where))

    def render(self, context: Mapping[str, Any]) -> str | None:
        """The rendered text (at most :data:`MAX_OUTPUT` characters), or None if it failed."""
        from deliverator._errorhandling.evallimits import evaluation_limits  # loaded with the template

        try:
            parts: list[str] = []
            size = 0
            with evaluation_limits():
                for chunk in self._template.generate(context):
                    parts.append(chunk)
                    size += len(chunk)
                    if size > MAX_OUTPUT:
                        break
            return "".join(parts)[:MAX_OUTPUT]
        except Exception as exc:  # RecursionError and MemoryError included: no match, never a crash
            self._record_failure(exc)
            return None

    def is_true(self, context: Mapping[str, Any]) -> bool:
        """Whether the template, read as a predicate, holds (see :func:`is_true_text`)."""
        return is_true_text(self.render(context))

    def _record_failure(self, exc: Exception) -> None:
        with self._lock:
            self.error_count += 1
            first = self.error_count == 1
        if first:
            from jinja2.exceptions import SecurityError

            # Other exceptions' text may quote what the template looked at (int('<a header>')).
            detail = str(exc).splitlines()[0] if isinstance(exc, SecurityError) and str(exc) else ""
            if len(detail) > _MAX_LOGGED_DETAIL:
                detail = detail[:_MAX_LOGGED_DETAIL] + "..."
            logger.warning(
                "%s could not be evaluated (%s%s); it counts as no match. "
                "Further failures of this template are not logged.",
                self.where,
                type(exc).__name__,
                f": {detail}" if detail else "",
            )


def is_true_text(rendered: str | None) -> bool:
    """A predicate's verdict from its rendered text.

    False for a failed render and for text that reads as nothing: empty or blank, ``false``,
    ``none``, ``null``, ``0``, ``undefined``, an empty list or mapping (any case). True
    otherwise. Unlike Airbyte, ``None`` is false.
    """
    return rendered is not None and rendered.strip().lower() not in _FALSE_TEXTS


def compile_template(source: str, where: str) -> SafeTemplate:
    """Compile ``source`` for the guarded environment, or raise :class:`ConfigError` naming
    ``where`` and the reason (a template nested too deeply for Jinja's or Python's compiler
    included)."""
    from jinja2 import TemplateError

    try:
        return _compile(source, where)
    except TemplateError as exc:
        raise ConfigError(f"template does not compile: {_describe(exc)}", where) from None
    # Jinja's parser and node walks recurse, and Python's compiler refuses "too many nested
    # parentheses": all mean the same thing here.
    except (RecursionError, MemoryError, SyntaxError):
        raise ConfigError(_TOO_DEEP, where) from None


def _compile(source: str, where: str) -> SafeTemplate:
    from deliverator._errorhandling.sandbox import forbidden_statement

    env = environment()
    parsed = env.parse(source)
    statement = forbidden_statement(parsed)
    if statement is not None:
        raise ConfigError(
            f"{{% {statement} %}} is not allowed in templates; use an expression such as "
            "{{ response.code == 300 }} (and {% if %} if needed)",
            where,
        )
    return SafeTemplate(source, where, env.from_string(parsed))


def _describe(exc: TemplateError) -> str:
    message = exc.message or type(exc).__name__
    line = getattr(exc, "lineno", None)
    return f"{message} (line {line})" if line else message
