"""What the command line names: the default file names its help promises are the files a run
writes; the core's command line names no destination plugin; docs cited by modules exist;
``demo`` runs any installed destination's demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deliverator._cli.demo import demo_destinations
from tests.services import ExampleService, jsonl, track
from tests.support import REPO, cli_env, run_cli, write_distribution
from tests.test_cli import write_config

CORE = REPO / "core" / "deliverator"


def test_the_default_file_names_in_deliver_help_are_the_files_written(tmp_path: Path, example_site: Path) -> None:
    env = cli_env(example_site, extra={"EXAMPLE_TOKEN": "t", "COLUMNS": "400"})
    help_text = " ".join(run_cli(["deliver", "--help"], env).stdout.split())
    help_text = re.sub(r"(\w)- (\w)", r"\1-\2", help_text)  # click wraps lines after a hyphen
    promised = re.findall(r"\(events\.jsonl -> (\S+);", help_text)
    assert promised == ["events.results.jsonl", "events.dead-letter.jsonl"], help_text
    with ExampleService(items={"m-1": (400,)}) as service:
        config = write_config(tmp_path, service.url)
        events = tmp_path / "events.jsonl"
        events.write_bytes(jsonl([track(0), track(1)]))
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    written = sorted(p.name for p in tmp_path.glob("events.*.jsonl"))
    assert written == sorted(promised)
    for name in promised:
        assert f": {tmp_path / name}" in proc.stdout  # the summary names each file it wrote


def test_the_core_command_line_names_no_destination_plugin() -> None:
    for module in sorted((CORE / "cli").glob("*.py")):
        text = module.read_text().lower()
        for name in ("customer.io", "customerio", "mixpanel", "amplitude"):
            assert name not in text, f"{module.name} names {name}"


def test_modules_cite_only_documents_that_are_in_the_repository() -> None:
    for module in sorted([*CORE.rglob("*.py"), *(REPO / "plugins").glob("*/*/**/*.py")]):
        text = module.read_text()
        for cited in re.findall(r"\b([A-Z][A-Z_]+\.md)\b", text):
            found = (REPO / cited).exists() or (REPO / "docs" / cited).exists()
            assert found, f"{module.relative_to(REPO)} cites {cited}, which is not in the repository"
        for page in re.findall(r"\b(docs/[\w/.-]+\.md)\b", text):
            assert (REPO / page).exists(), f"{module.relative_to(REPO)} cites {page}, which does not exist"


DEMO_MODULE = '''
from contextlib import nullcontext

from deliverator import hookimpl


@hookimpl
def demo_environment():
    return nullcontext(None)
'''


def test_the_demo_default_is_the_first_installed_destination_with_a_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_distribution(site, "aaa-demo", {"deliverator.destinations": {"aaa": "aaa_demo"}}, {"aaa_demo": DEMO_MODULE})
    write_distribution(
        site, "aab-nodemo", {"deliverator.destinations": {"aab": "aab_nodemo"}}, {"aab_nodemo": "X = 1\n"}
    )
    monkeypatch.syspath_prepend(str(site))
    names = [plugin.name for plugin in demo_destinations()]
    assert names[0] == "aaa" and "aab" not in names


def test_demo_of_a_destination_without_a_demo_says_which_have_one(example_site: Path) -> None:
    proc = run_cli(["demo", "--destination", "example", "--no-progress"], cli_env(example_site))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "destination 'example' offers no demo (destinations with a demo:" in proc.stderr


def test_demo_of_a_destination_that_is_not_installed_exits_2(example_site: Path) -> None:
    proc = run_cli(["demo", "--destination", "nowhere"], cli_env(example_site))
    assert proc.returncode == 2 and "no destination named 'nowhere' is installed" in proc.stderr
