"""Predicates and error messages run in a guarded sandbox: no internals, no globals, no
unbounded work, errors count as "no match" and are logged once without the values seen."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from deliverator._classification import Action
from deliverator._errorhandling import error_handler_plugin, parse_error_handler
from deliverator._errorhandling.templates import MAX_OUTPUT, compile_template, is_true_text
from deliverator._errors import ConfigError
from tests.errorhandling.helpers import response

BODY = {"code": 300, "message": "hello", "token": "s3cr3t-value", "items": [1, 2, 3]}
CONTEXT = {"response": BODY, "headers": {}, "status": 200}


def predicate_matches(predicate: str, body: Any = BODY) -> bool:
    plugin = error_handler_plugin(
        parse_error_handler({"response_filters": [{"predicate": predicate, "action": "FAIL"}]})
    )
    assert plugin is not None
    result = plugin.classify_error(response=response(200, body), error=None, settings=None)
    return result is not None and result.action is Action.FAIL


@pytest.mark.parametrize(
    "source",
    [
        "{{ response.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ headers.__init__.__globals__ }}",
        "{{ status.__class__.__subclasses__() }}",
        "{{ response.items.__self__ }}",
        "{{ response.__dict__ }}",
        "{{ (response|attr('__class__')) }}",
    ],
)
def test_internals_are_out_of_reach(source: str) -> None:
    rendered = compile_template(source, "t").render(CONTEXT)
    assert not rendered or ("class" not in rendered.lower() and "function" not in rendered.lower())
    assert not predicate_matches(source)


@pytest.mark.parametrize("name", ["range", "lipsum", "namespace", "dict", "cycler", "joiner"])
def test_globals_are_gone(name: str) -> None:
    assert compile_template(f"{{{{ {name}(3) }}}}", "t").render(CONTEXT) is None
    assert not predicate_matches(f"{{{{ {name}(3) is defined }}}}")


def test_mutating_the_body_is_refused() -> None:
    assert compile_template("{{ response.update({'code': 1}) }}", "t").render(CONTEXT) is None
    assert compile_template("{{ response['items'].append(4) }}", "t").render(CONTEXT) is None
    assert BODY["items"] == [1, 2, 3]


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * (10 ** 9) }}",
        "{{ [0] * (10 ** 9) }}",
        "{{ (10 ** 9) * 'a' }}",
        "{{ 2 ** (10 ** 9) }}",
        "{{ (response.message * 1000) * 1000 }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ response.message.ljust(10**9) }}",
        "{{ response.message.center(10**9) }}",
        "{{ response.message.zfill(10**9) }}",
        "{{ response.message.expandtabs(10**9) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ (1).to_bytes(10**9, 'big') }}",
        "{{ response.message|replace('', 'x' * 60000) * 2 }}",
        "{{ response.message|replace('l', 'x' * 65536 * 1) }}",
        "{{ ('x' * 65536).join(response['items']) }}",
        "{{ response['items']|join('x' * 65536) }}",
        "{{ response|tojson(indent=100000) }}",
        "{{ response['items']|map('string')|list|sum(start=[]) }}",
    ],
)
def test_amplifying_operations_are_refused_quickly(source: str) -> None:
    started = time.perf_counter()
    assert compile_template(source, "t").render(CONTEXT) is None
    inner = source.removeprefix("{{").removesuffix("}}")
    assert not predicate_matches(f"{{{{ ({inner}) is defined }}}}")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 100 }}",
        "{{ 10 ** 9 }}",
        "{{ response.message|replace('l', 'L') }}",
        "{{ response['items']|join(', ') }}",
        "{{ ', '.join(response['items']|map('string')) }}",
        "{{ response['items']|sum }}",
        "{{ 2 ** 64 }}",
        "{{ '%5.2f' % 3.14159 }}",
        "{{ response.message.upper() }}",
        "{{ response.get('code') }}",
        "{{ response|tojson }}",
    ],
)
def test_ordinary_operations_still_work(source: str) -> None:
    rendered = compile_template(source, "t").render(CONTEXT)
    assert rendered is not None and rendered != ""
    inner = source.removeprefix("{{").removesuffix("}}")
    assert predicate_matches(f"{{{{ ({inner}) is defined }}}}")


def test_rendered_output_is_cut_at_the_bound() -> None:
    rendered = compile_template("{{ response.blob }}{{ response.blob }}", "t").render(
        {"response": {"blob": "y" * 50_000}}
    )
    assert rendered == "y" * MAX_OUTPUT


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("{% for x in response['items'] %}{{ x }}{% endfor %}", "for"),
        ("{% set a = 'x' %}{{ a }}", "set"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro"),
        ("{% include 'other' %}", "include"),
        ("{% import 'other' as o %}", "import"),
        ("{% extends 'base' %}", "extends"),
        ("{% filter upper %}x{% endfilter %}", "filter"),
        ("{% with a = 1 %}{{ a }}{% endwith %}", "with"),
    ],
)
def test_statements_other_than_if_are_config_errors(tag: str, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_error_handler(
            {"response_filters": [{"http_codes": [500], "action": "FAIL"}, {"predicate": tag, "action": "FAIL"}]}
        )
    assert caught.value.where == "error_handler.response_filters[1].predicate"
    assert f"{{% {name} %}}" in str(caught.value)


def test_if_blocks_are_allowed() -> None:
    assert predicate_matches("{% if response.code == 300 %}true{% endif %}")
    assert not predicate_matches("{% if response.code == 1 %}true{% else %}false{% endif %}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, False), ("", False), ("   ", False), ("False", False), ("false", False), ("None", False),
        ("none", False), ("null", False), ("0", False), ("0.0", False), ("[]", False), ("{}", False),
        ("undefined", False), ("True", True), ("true", True), ("1", True), ("yes", True), ("[0]", True),
        ("anything", True),
    ],
)  # fmt: skip
def test_predicate_text_truthiness(text: str | None, expected: bool) -> None:
    assert is_true_text(text) is expected


@pytest.mark.parametrize(
    "predicate",
    [
        "{{ none }}",
        "{{ response.missing }}",
        "{{ response.missing.deeper.still }}",
        "{{ response.message == 'nope' }}",
        "{{ 0 }}",
        "{{ response.empty }}",
        "{{ [] }}",
    ],
)
def test_predicates_that_render_as_nothing_do_not_match(predicate: str) -> None:
    assert not predicate_matches(predicate, {**BODY, "empty": ""})


def test_an_evaluation_error_is_no_match_and_logged_once_without_values(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_error_handler(
        {
            "response_filters": [
                {"predicate": "{{ response.token > 5 }}", "action": "FAIL"},
                {"predicate": "{{ response.token.nope() }}", "action": "FAIL"},
                {"http_codes": [200], "action": "IGNORE"},
            ]
        }
    )
    plugin = error_handler_plugin(config)
    assert plugin is not None
    with caplog.at_level(logging.WARNING, logger="deliverator._errorhandling"):
        for _ in range(3):
            result = plugin.classify_error(response=response(200, BODY), error=None, settings=None)
            assert result is not None and result.action is Action.IGNORE
    records = [r for r in caplog.records if r.name == "deliverator._errorhandling"]
    assert len(records) == 2
    assert "error_handler.response_filters[0].predicate" in records[0].getMessage()
    assert "error_handler.response_filters[1].predicate" in records[1].getMessage()
    assert "s3cr3t" not in caplog.text
    assert config.response_filters[0].predicate is not None
    assert config.response_filters[0].predicate.error_count == 3


def test_an_undefined_comparison_error_does_not_dump_the_context(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="deliverator._errorhandling"):
        assert not predicate_matches("{{ response.missing > 3 }}")
    assert caplog.records
    for secretish in ("s3cr3t", "hello", "items"):
        assert secretish not in caplog.text


def test_big_bodies_can_still_be_joined_and_summed() -> None:
    body = {"ids": list(range(100_000)), "rows": [{"n": 1}, {"n": 2}, {"n": 3}]}
    joined = compile_template("{{ response.ids|join(', ') }}", "t").render({"response": body})
    assert joined is not None and joined.startswith("0, 1, 2, ") and len(joined) == MAX_OUTPUT
    assert compile_template("{{ response.rows|sum(attribute='n') }}", "t").render({"response": body}) == "6"
