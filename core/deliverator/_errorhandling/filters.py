"""Response filters: the user's rules for what a whole-request answer means.

A filter matches when ANY condition it names holds (Airbyte's rule): the status is in
``http_codes``, ``error_message_contains`` is a substring of the body's error text, or the
``predicate`` is true. Filters see 2xx answers too, so a rule can turn a 200 into RETRY.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from deliverator._classification import Action
from deliverator._convert import NOT_A_CONFIG_KEY
from deliverator._errorhandling import fields
from deliverator._errorhandling.fields import FILTER_ACTIONS
from deliverator._errorhandling.templates import SafeTemplate  # no Jinja2 until a template is compiled
from deliverator._http import HttpResponse
from deliverator._responsetext import error_text, parse_body

CONDITIONS: Final = ("http_codes", "error_message_contains", "predicate")

__all__ = ["CONDITIONS", "FILTER_ACTIONS", "ResponseFilter", "ResponseView", "matches"]


@attrs.frozen(kw_only=True)
class ResponseFilter:
    """One ``[[error_handler.response_filters]]`` entry, built and validated.

    ``where`` is its place in the config (``error_handler.response_filters[0]``), for messages.
    """

    action: Action = attrs.field(metadata=fields.reads(fields.action))
    http_codes: frozenset[int] = attrs.field(default=frozenset(), metadata=fields.reads(fields.status_codes))
    error_message_contains: str | None = attrs.field(default=None, metadata=fields.reads(fields.text))
    predicate: SafeTemplate | None = attrs.field(default=None, metadata=fields.reads(fields.template))
    error_message: SafeTemplate | None = attrs.field(default=None, metadata=fields.reads(fields.template))
    where: str = attrs.field(default="error_handler.response_filters", metadata={NOT_A_CONFIG_KEY: True})

    def __attrs_post_init__(self) -> None:
        if not (self.http_codes or self.error_message_contains is not None or self.predicate is not None):
            raise ValueError(f"a response filter must name at least one condition ({', '.join(CONDITIONS)})")

    def placed(self, where: str) -> ResponseFilter:
        """This filter, its messages naming ``where`` (its place in the config)."""
        for name in ("predicate", "error_message"):
            compiled = getattr(self, name)
            if compiled is not None:
                compiled.where = f"{where}.{name}"
        return attrs.evolve(self, where=where)


class ResponseView:
    """One response as filters see it, each derived value computed at most once."""

    __slots__ = ("_context", "_error_text", "response")

    def __init__(self, response: HttpResponse) -> None:
        self.response = response
        self._error_text: str | None = None
        self._context: dict[str, Any] | None = None

    @property
    def error_text(self) -> str:
        """The body's error text, found as :func:`deliverator._responsetext.error_text` does."""
        if self._error_text is None:
            self._error_text = error_text(self.response)
        return self._error_text

    @property
    def context(self) -> Mapping[str, Any]:
        """The names templates see: ``response`` (the parsed JSON body: an object, a list, a
        string...; ``{}`` when the body is empty or not JSON), ``headers`` (case-insensitive)
        and ``status``."""
        if self._context is None:
            body = parse_body(self.response)
            self._context = {
                "response": {} if body is None else body,
                "headers": self.response.headers,
                "status": self.response.status,
            }
        return self._context


def matches(rule: ResponseFilter, view: ResponseView) -> bool:
    """Whether any condition of ``rule`` holds for the response (cheapest checks first)."""
    if view.response.status in rule.http_codes:
        return True
    if rule.error_message_contains is not None and rule.error_message_contains in view.error_text:
        return True
    return rule.predicate is not None and rule.predicate.is_true(view.context)


def first_match(
    rules: tuple[ResponseFilter, ...], response: HttpResponse
) -> tuple[ResponseFilter, ResponseView] | None:
    """The first rule that matches ``response``, with the view it was matched on."""
    view = ResponseView(response)
    for rule in rules:
        if matches(rule, view):
            return rule, view
    return None
