"""Finding plugins through entry points: listing imports nothing, a broken plugin is
reported by name without harming the others, and the allow-list is honoured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deliverator._discovery import DESTINATIONS_GROUP, EXTENSIONS_GROUP, find_destination, installed
from deliverator._errors import PluginError
from tests.support import write_distribution

GOOD = """
from deliverator import DestinationSpec, hookimpl
import attrs

@attrs.frozen
class Settings:
    pass

@hookimpl
def destination_spec():
    return DestinationSpec(name="good", settings_class=Settings)
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    write_distribution(site, "good-dest", {DESTINATIONS_GROUP: {"good": "good_dest"}}, {"good_dest": GOOD})
    write_distribution(
        site,
        "broken-dest",
        {DESTINATIONS_GROUP: {"broken": "broken_dest"}},
        {"broken_dest": "import marker_for_listing\nraise RuntimeError('kaboom at import')\n"},
    )
    write_distribution(
        site, "some-extension", {EXTENSIONS_GROUP: {"metrics": "some_extension"}}, {"some_extension": ""}
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("DELIVERATOR_LOAD_PLUGINS", raising=False)
    return site


def test_listing_finds_destinations_without_importing_them(site: Path) -> None:
    names = {p.name: p for p in installed(DESTINATIONS_GROUP)}
    assert {"good", "broken"} <= names.keys()
    assert names["good"].distribution == "good-dest"
    assert names["good"].version == "0.1.0"
    assert "good_dest" not in sys.modules
    assert "broken_dest" not in sys.modules


def test_extensions_have_their_own_group(site: Path) -> None:
    assert [p.name for p in installed(EXTENSIONS_GROUP) if p.distribution == "some-extension"] == ["metrics"]


def test_a_plugin_that_fails_to_import_is_reported_with_its_name_and_error(site: Path) -> None:
    with pytest.raises(PluginError) as info:
        find_destination("broken").load()
    message = str(info.value)
    assert "'broken'" in message and "broken-dest" in message
    assert "ModuleNotFoundError" in message or "kaboom" in message


def test_a_broken_plugin_does_not_stop_the_others_from_loading(site: Path) -> None:
    with pytest.raises(PluginError):
        find_destination("broken").load()
    module = find_destination("good").load()
    assert module.destination_spec().name == "good"


def test_unknown_destination_lists_the_installed_ones(site: Path) -> None:
    with pytest.raises(PluginError, match=r"no destination named 'nope' is installed.*good"):
        find_destination("nope")


def test_allow_list_restricts_what_is_seen(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERATOR_LOAD_PLUGINS", "good-dest")
    assert [p.name for p in installed(DESTINATIONS_GROUP)] == ["good"]


def test_allow_list_normalises_distribution_names(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERATOR_LOAD_PLUGINS", " Good_Dest , other")
    assert [p.name for p in installed(DESTINATIONS_GROUP)] == ["good"]


def test_empty_allow_list_loads_nothing(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERATOR_LOAD_PLUGINS", "")
    assert installed(DESTINATIONS_GROUP) == []
    assert installed(EXTENSIONS_GROUP) == []
