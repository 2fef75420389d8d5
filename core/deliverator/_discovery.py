"""Finding installed plugins through entry points, without importing them until a run needs
one.

``DELIVERATOR_LOAD_PLUGINS`` (comma-separated distribution names) restricts what is seen: unset
means every installed plugin, an empty value means none.
"""

from __future__ import annotations

import os
import traceback
from types import ModuleType
from typing import Final

import attrs
import importlib_metadata

from deliverator._errors import PluginError

DESTINATIONS_GROUP: Final = "deliverator.destinations"
EXTENSIONS_GROUP: Final = "deliverator.extensions"
ALLOW_LIST_VARIABLE: Final = "DELIVERATOR_LOAD_PLUGINS"


@attrs.frozen(kw_only=True)
class InstalledPlugin:
    """One entry point, described without importing it."""

    name: str
    group: str
    target: str
    distribution: str
    version: str

    def load(self) -> ModuleType:
        """Import the plugin, or raise :class:`PluginError` naming it and what went wrong."""
        try:
            for entry_point in importlib_metadata.entry_points(group=self.group, name=self.name):
                if entry_point.value == self.target:
                    loaded = entry_point.load()
                    if not isinstance(loaded, ModuleType):
                        raise PluginError(
                            f"plugin {self.name!r} ({self.distribution}): entry point {self.target!r} "
                            "must name a module holding hook implementations"
                        )
                    return loaded
        except PluginError:
            raise
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1:] or None
            line = f" (at {where[0].filename}:{where[0].lineno})" if where else ""
            raise PluginError(
                f"plugin {self.name!r} from {self.distribution} {self.version} failed to import: "
                f"{type(exc).__name__}: {exc}{line}"
            ) from exc
        raise PluginError(f"plugin {self.name!r} is no longer installed")


def allowed_distributions() -> frozenset[str] | None:
    """The allow-list from the environment, or None when every plugin may load."""
    raw = os.environ.get(ALLOW_LIST_VARIABLE)
    if raw is None:
        return None
    return frozenset(_normalise(name) for name in raw.split(",") if name.strip())


def installed(group: str) -> list[InstalledPlugin]:
    """Every allowed entry point in ``group``, sorted by name. Imports nothing."""
    allowed = allowed_distributions()
    found: dict[tuple[str, str], InstalledPlugin] = {}
    for entry_point in importlib_metadata.entry_points(group=group):
        dist = entry_point.dist
        dist_name = dist.name if dist is not None else "unknown"
        if allowed is not None and _normalise(dist_name) not in allowed:
            continue
        plugin = InstalledPlugin(
            name=entry_point.name,
            group=group,
            target=entry_point.value,
            distribution=dist_name,
            version=dist.version if dist is not None else "unknown",
        )
        found.setdefault((plugin.name, plugin.target), plugin)
    return sorted(found.values(), key=lambda p: (p.name, p.distribution))


def find_destination(name: str) -> InstalledPlugin:
    """The destination called ``name``, or :class:`PluginError` listing the ones there are."""
    plugins = installed(DESTINATIONS_GROUP)
    matches = [p for p in plugins if p.name == name]
    if not matches:
        known = ", ".join(sorted({p.name for p in plugins})) or "none"
        raise PluginError(f"no destination named {name!r} is installed (installed: {known})")
    if len(matches) > 1:
        dists = ", ".join(p.distribution for p in matches)
        raise PluginError(f"destination {name!r} is provided by several distributions: {dists}")
    return matches[0]


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")
