"""The Jinja2 environment for predicates and error messages: safe for templates copied from
anywhere, over bodies sent by anyone.

Built on ``ImmutableSandboxedEnvironment`` (no ``__class__``/``__globals__``, no mutation of
lists and dicts) and tightened so that neither the template nor the response can make a
render allocate or loop without bound:

- only ``{{ expressions }}`` and ``{% if %}`` blocks: no ``for``, ``set``, ``macro`` or
  ``include``, so there is no loop or recursion to amplify anything;
- no globals at all (``range``, ``lipsum``, ``namespace``, ``dict``, ``cycler`` are gone);
- ``*``, ``**`` and ``%`` are intercepted and refuse to build more than
  :data:`MAX_BUILT` characters/items (``'a' * 10**9``, ``9 ** 9 ** 9``, ``'%999999999s' % x``);
- filters are an allow-list; ``join``, ``replace``, ``tojson`` and ``sum`` are wrapped to
  refuse huge results; padding and formatting filters (``center``, ``indent``, ``format``,
  ``wordwrap``, ``batch``, ``slice``, ``pprint``) are gone;
- method calls are an allow-list per type (``str.lower``, ``dict.get``, ...), so no
  ``int.to_bytes(10**9)`` or ``str.ljust(10**9)``;
- every value an operator (``+``, ``~`` included), filter or method builds is measured as it
  is made, and every hook checks the clock (:mod:`deliverator._errorhandling.evallimits`), so
  chains of individually harmless steps (``replace('a', 'aa')`` ten times, ``map`` over a
  long list, ``tojson(8)`` on a deep body) stop at a cap instead of reaching gigabytes. Every
  wrapped filter takes its context, which also keeps Jinja from running it while compiling.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from jinja2 import ChainableUndefined, Environment, nodes, pass_context, pass_environment, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from markupsafe import Markup

from deliverator._errorhandling.evallimits import MAX_VALUE, LimitExceeded, charge, measured, size_of, tick

MAX_BUILT: Final = 65_536
"""The most characters or items an operator, filter or method may build beyond its input."""

_MAX_POWER_BITS: Final = 4_096

_SAFE_FILTERS: Final = frozenset(
    {
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "groupby", "int", "items", "last",
        "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
        "reverse", "round", "safe", "select", "selectattr", "sort", "string", "striptags",
        "title", "trim", "truncate", "unique", "upper", "urlencode", "wordcount",
    }
)  # fmt: skip

_SAFE_STR_METHODS: Final = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
        "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper",
        "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rindex",
        "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip",
        "swapcase", "title", "upper", "replace", "join",
    }
)  # fmt: skip
_SAFE_MAPPING_METHODS: Final = frozenset({"get", "items", "keys", "values"})
_SAFE_SEQUENCE_METHODS: Final = frozenset({"count", "index"})

_ALLOWED_STATEMENTS: Final = (nodes.Output, nodes.If)
_TAG_NAMES: Final = {
    "Assign": "set",
    "AssignBlock": "set",
    "CallBlock": "call",
    "FilterBlock": "filter",
    "FromImport": "from",
    "ExprStmt": "do",
    "ScopedEvalContextModifier": "autoescape",
}

_PERCENT_FIELD: Final = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _refuse(what: str) -> SecurityError:
    return LimitExceeded(f"{what} would build more than {MAX_BUILT} characters/items")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        size = _size(sequence)
        if size is not None and isinstance(count, int) and count > 1 and size * count > MAX_BUILT:
            raise _refuse("repetition")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and abs(base).bit_length() * exponent > _MAX_POWER_BITS
    ):
        raise LimitExceeded(f"a power of more than {_MAX_POWER_BITS} bits is too large to compute")


def _check_percent_format(template: Any) -> None:
    if not isinstance(template, str):
        return
    for field in _PERCENT_FIELD.finditer(template):
        for number in field.groups():
            if number == "*" or (number is not None and int(number) > 1_000):
                raise _refuse("%-formatting with this width")


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a measured join (Jinja's own is a plain ``str`` join)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.guarded_concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with bounded operators and an allow-list of calls."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _GuardedCodeGenerator

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%":
            _check_percent_format(left)
        elif operator == "+":
            sizes = (size_of(left), size_of(right))
            if sizes[0] is not None and sizes[1] is not None:
                charge(sizes[0] + sizes[1], "+")
        return measured(super().call_binop(context, operator, left, right), operator)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        if not isinstance(__obj, Undefined):
            args = _check_method(__obj, args, kwargs)
        return measured(super().call(__context, __obj, *args, **kwargs), "a method call")

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        return measured(super().getitem(obj, argument), "an index or slice")

    def call_test(self, *args: Any, **kwargs: Any) -> Any:
        tick()
        return super().call_test(*args, **kwargs)

    def guarded_concat(self, parts: Iterable[Any]) -> str:
        """``a ~ b ~ ...``, measured before it is joined."""
        texts = [measured(str(part), "~") for part in parts]
        charge(sum(map(len, texts)), "~")
        return "".join(texts)


def _check_method(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse calls outside the allow-list; returns the arguments to call with (an iterator
    given to ``str.join`` is materialised once, to be measured and then joined)."""
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", type(function).__name__)
    if isinstance(owner, str):
        if name not in _SAFE_STR_METHODS:
            raise SecurityError(f"str.{name}() is not allowed in templates")
        if name == "replace":
            _check_replace(owner, *args, **kwargs)
        elif name == "join" and args:
            items = list(args[0])
            _check_join(items, owner)
            return (items, *args[1:])
        return args
    if isinstance(owner, Mapping) and name in _SAFE_MAPPING_METHODS:
        return args
    if isinstance(owner, list | tuple) and name in _SAFE_SEQUENCE_METHODS:
        return args
    owner_name = type(owner).__name__ if owner is not None else None
    label = f"{owner_name}.{name}()" if owner_name else f"{name}()"
    raise SecurityError(f"calling {label} is not allowed in templates")


def _check_growth(what: str, grown: int, input_size: int) -> None:
    # Data may double itself (a separator per item); a template may add MAX_BUILT; no more.
    if grown > max(MAX_BUILT, input_size):
        raise _refuse(what)


def _check_replace(text: str, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not isinstance(old, str) or not isinstance(new, str):
        return
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    _check_growth("replace()", occurrences * (len(new) - len(old)), len(text))


def _check_join(items: list[Any], separator: str) -> None:
    grown = len(separator) * max(0, len(items) - 1)
    if grown > MAX_BUILT:  # only then is measuring the items worth it
        _check_growth("join", grown, sum(len(str(item)) for item in items))


def _wrap_join(original: Callable[..., str]) -> Callable[..., str]:
    @pass_eval_context
    def join(eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
        items = list(value)
        _check_join(items, str(d))
        return original(eval_ctx, items, d, attribute)

    return join


def _wrap_replace(original: Callable[..., str]) -> Callable[..., str]:
    @pass_eval_context
    def replace(eval_ctx: EvalContext, s: Any, old: str, new: str, count: int | None = None) -> str:
        _check_replace(str(s), old, new, -1 if count is None else count)
        return original(eval_ctx, s, old, new, count)

    return replace


def _wrap_tojson(original: Callable[..., str]) -> Callable[..., str]:
    @pass_eval_context
    def tojson(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> str:
        # An indent multiplies every nested line of a 10 MB body: refuse all but small ones.
        if indent is not None and (not isinstance(indent, int) or indent > 8):
            raise SecurityError("tojson indent must be a whole number up to 8")
        if indent is None:
            return original(eval_ctx, value, indent)
        # Indented, a deep body's text grows with depth times size: write it piece by piece
        # and stop at the cap, the way Jinja would write it (sorted keys, HTML-safe).
        encoder = json.JSONEncoder(**{**eval_ctx.environment.policies["json.dumps_kwargs"], "indent": indent})
        pieces: list[str] = []
        size = 0
        for piece in encoder.iterencode(value):
            size += len(piece)
            if size > MAX_VALUE:
                charge(size, "tojson")
            pieces.append(piece)
            if len(pieces) % 1024 == 0:
                tick()
        text = "".join(pieces)
        escapes = sum(text.count(c) for c in "<>&'")
        charge(size + 5 * escapes, "tojson")
        return Markup(
            text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
        )

    return tojson


def _wrap_sum(original: Callable[..., Any]) -> Callable[..., Any]:
    @pass_environment
    def sum_numbers(environment: Environment, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
        # Adding up lists is quadratic; with a numeric start, a list item is a TypeError instead.
        if isinstance(start, bool) or not isinstance(start, numbers.Number):
            raise SecurityError("sum works on numbers only")
        return original(environment, iterable, attribute, start)

    return sum_numbers


def build_environment() -> GuardedEnvironment:
    """A fresh guarded environment (undefined names are falsy and never raise on access)."""
    env = GuardedEnvironment(undefined=ChainableUndefined, autoescape=False)
    env.globals.clear()
    original = dict(env.filters)
    env.filters.clear()
    env.filters.update({name: original[name] for name in _SAFE_FILTERS})
    env.filters["join"] = _wrap_join(original["join"])
    env.filters["replace"] = _wrap_replace(original["replace"])
    env.filters["tojson"] = _wrap_tojson(original["tojson"])
    env.filters["sum"] = _wrap_sum(original["sum"])
    for name, function in list(env.filters.items()):
        env.filters[name] = _measured_filter(name, function)
    return env


def _measured_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its result measured (and the clock checked) on every call."""
    passes = _PassArg.from_obj(function)
    what = f"the {name} filter"

    @pass_context
    def measured_filter(context: Context, *args: Any, **kwargs: Any) -> Any:
        tick()
        if passes is _PassArg.context:
            result = function(context, *args, **kwargs)
        elif passes is _PassArg.eval_context:
            result = function(context.eval_ctx, *args, **kwargs)
        elif passes is _PassArg.environment:
            result = function(context.environment, *args, **kwargs)
        else:
            result = function(*args, **kwargs)
        return measured(result, what)

    return measured_filter


def forbidden_statement(parsed: nodes.Template) -> str | None:
    """The first statement tag other than ``{% if %}`` in a parsed template, or None."""
    for node in parsed.find_all(nodes.Stmt):
        if not isinstance(node, _ALLOWED_STATEMENTS):
            name = type(node).__name__
            return _TAG_NAMES.get(name, name.lower())
    return None
