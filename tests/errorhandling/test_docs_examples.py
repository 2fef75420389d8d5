"""Every TOML example in docs/error-handling.md is valid config, and the examples that show a
behaviour really behave that way, so the page cannot rot."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from deliverator._classification import Action
from deliverator._config import parse_config
from deliverator._errorhandling import ErrorHandlerConfig, error_handler_plugin, parse_error_handler
from deliverator._http import HttpResponse
from tests.errorhandling.helpers import response

PAGE = Path(__file__).resolve().parents[2] / "docs" / "error-handling.md"
_BLOCK = re.compile(r"^```toml\n(.*?)^```", re.DOTALL | re.MULTILINE)


def toml_blocks() -> list[str]:
    return _BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def config_of(block: str) -> ErrorHandlerConfig:
    document = tomllib.loads(block)
    if "destination" in document:
        return parse_config(document, {}).error_handler
    unknown = set(document) - {"delivery", "error_handler"}
    assert not unknown, f"unexpected sections {unknown}"
    if "delivery" in document:
        full = parse_config({"destination": {"name": "docs"}, **document}, {})
        return full.error_handler
    return parse_error_handler(document["error_handler"])


def test_the_page_has_an_example_for_every_action_and_strategy() -> None:
    text = "\n".join(toml_blocks())
    for action in ("SUCCESS", "RETRY", "RATE_LIMITED", "IGNORE", "FAIL"):
        assert f'action = "{action}"' in text
    for strategy in ("constant", "exponential", "wait_time_from_header", "wait_until_time_from_header"):
        assert f'type = "{strategy}"' in text


@pytest.mark.parametrize("block", toml_blocks(), ids=lambda block: block.strip().splitlines()[-1][:60])
def test_every_toml_example_parses(block: str) -> None:
    config_of(block)


def _example(marker: str) -> ErrorHandlerConfig:
    matching = [block for block in toml_blocks() if marker in block]
    assert len(matching) == 1, marker
    return config_of(matching[0])


def _action(config: ErrorHandlerConfig, answer: HttpResponse) -> Action | None:
    plugin = error_handler_plugin(config)
    assert plugin is not None
    result = plugin.classify_error(response=answer, error=None, settings=None)
    return None if result is None else result.action


@pytest.mark.parametrize(
    ("marker", "answer", "expected"),
    [
        ("'temporarily unavailable' in", response(403, {"message": "temporarily unavailable"}), Action.RETRY),
        ("'temporarily unavailable' in", response(403, {"message": "forbidden"}), None),
        ("X-RateLimit-Remaining", response(403, headers={"X-RateLimit-Remaining": "0"}), Action.RATE_LIMITED),
        ("X-RateLimit-Remaining", response(403, headers={"X-RateLimit-Remaining": "7"}), None),
        ("status == 200 and response.status", response(200, {}), None),
        ("status == 200 and response.status", response(200, {"status": "workspace_suspended"}), Action.FAIL),
        ("upstream_timeout", response(200, {"meta": {"error": "upstream_timeout"}}), Action.RETRY),
        ("upstream_timeout", response(200, "<html>", {"Content-Type": "text/html; charset=utf-8"}), Action.RETRY),
        ("upstream_timeout", response(200, {}), None),
        ("'person not found' in", response(404, {"message": "person not found"}), Action.IGNORE),
        ("'person not found' in", response(404, {"message": "no such route"}), None),
    ],
)
def test_documented_filters_behave_as_described(marker: str, answer: HttpResponse, expected: Action | None) -> None:
    assert _action(_example(marker), answer) == expected


def test_the_warned_about_http_codes_200_filter_really_matches_every_200() -> None:
    config = _example('http_codes = [200]\npredicate = "{{ response.status')
    assert _action(config, response(200, {})) is Action.FAIL
