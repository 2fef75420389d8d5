"""The library entry point, as the guide shows it: the guide's example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

import deliverator
from tests.services import ExampleService, jsonl, track
from tests.support import EXAMPLE_PLUGIN_SRC, REPO
from tests.test_cli import CONFIG

GUIDE = REPO / "docs" / "guide.md"


def _embedding_example() -> str:
    section = GUIDE.read_text().split("## Embedding a run", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert found is not None
    return found.group(1)


def test_the_guides_embedding_example_delivers_a_file(
    tmp_path: Path, example_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(example_site))
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN_SRC))
    monkeypatch.delenv("DELIVERATOR_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv("EXAMPLE_TOKEN", "t")
    monkeypatch.chdir(tmp_path)
    with ExampleService() as service:
        (tmp_path / "deliverator.toml").write_text(CONFIG.format(url=service.url))
        (tmp_path / "events.jsonl").write_bytes(jsonl([track(i) for i in range(3)]))
        exec(_embedding_example(), {})  # the docs' code, as a user would paste it
    assert "3 delivered, 0 failed, 0 ignored" in capsys.readouterr().out
    outcomes = [orjson.loads(line) for line in (tmp_path / "events.results.jsonl").read_bytes().splitlines()]
    assert sorted(o["index"] for o in outcomes) == [0, 1, 2]
    assert service.delivered == {"m-0": 1, "m-1": 1, "m-2": 1}
    assert not (tmp_path / "events.results.jsonl.journal").exists()


def test_deliver_and_pipeline_are_public() -> None:
    assert {"deliver", "Pipeline"} <= set(deliverator.__all__)
    assert deliverator.deliver is deliverator.pipeline.deliver
